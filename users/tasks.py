"""Celery tasks that keep the ranking index equal to the database; each calls one service."""

import logging
from typing import Any

from celery import shared_task
from django.dispatch import receiver

from . import ranking
from .upkeep import leaderboard_check, leaderboard_rebuild, leaderboard_sweep

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def rebuild_leaderboard() -> None:
    """Build the index whole; asked for when a read finds no index at all."""
    try:
        rebuilt = leaderboard_rebuild()
    except ranking.RebuildInProgress:
        logger.info("A rebuild of the ranking index is already running.")
    else:
        logger.info("Rebuilt the ranking index: %d users.", rebuilt.count)


@shared_task(ignore_result=True)
def sweep_leaderboard() -> None:
    """Apply the rows the database marks as pending; beat runs it every second, and a read
    that found the index doubtful asks for it at once."""
    try:
        swept = leaderboard_sweep()
    except (ranking.SweepBusy, ranking.RebuildInProgress):
        logger.debug("The ranking index is being swept or rebuilt already.")
    else:
        if isinstance(swept, ranking.Swept) and swept.rows:
            logger.info(
                "Swept the ranking index: %d rows applied, %d marks cleared, %d left.",
                swept.rows,
                swept.cleared,
                swept.backlog,
            )


@shared_task(ignore_result=True)
def check_leaderboard() -> None:
    """Compare the index's fingerprint with the database's; beat runs it every 5 minutes."""
    try:
        checked = leaderboard_check()
    except (ranking.SweepBusy, ranking.RebuildInProgress):
        logger.info("The ranking index is being swept or rebuilt; not checked this time.")
    else:
        if checked.equal:
            logger.info("The ranking index equals the database.")


@receiver(ranking.index_needs)
def _queue(*, need: ranking.Need, **kwargs: Any) -> None:
    """A read found the index missing or doubtful: queue the task that mends it."""
    task = sweep_leaderboard if need is ranking.Need.SWEEP else rebuild_leaderboard
    task.apply_async(retry=False)
