import logging

from celery import shared_task

from . import ranking
from .services import leaderboard_rebuild

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def rebuild_leaderboard() -> None:
    """Rebuild the ranking index; requested when a read finds it missing or stale."""
    try:
        count = leaderboard_rebuild()
    except ranking.RebuildInProgress:
        logger.info("A rebuild of the ranking index is already running.")
    else:
        logger.info("Rebuilt the ranking index: %d users.", count)
