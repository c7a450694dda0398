"""Celery tasks that keep the ranking index equal to the database; each calls one service."""

import logging

from celery import shared_task

from . import ranking
from .ranking.health import Request
from .upkeep import leaderboard_check, leaderboard_rebuild, leaderboard_repair

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def rebuild_leaderboard() -> None:
    """Build the index whole; requested when a read finds no index at all."""
    try:
        rebuilt = leaderboard_rebuild()
    except ranking.RebuildInProgress:
        logger.info("A rebuild of the ranking index is already running.")
    else:
        logger.info("Rebuilt the ranking index: %d users.", rebuilt.count)


@shared_task(ignore_result=True)
def repair_leaderboard() -> None:
    """Apply what the index may have missed; beat runs it every few seconds, and a process
    that noticed a missed write asks for it at once."""
    try:
        repaired = leaderboard_repair()
    except (ranking.RepairBusy, ranking.RebuildInProgress):
        logger.debug("The ranking index is being repaired or rebuilt already.")
    else:
        if isinstance(repaired, ranking.Repaired) and repaired.rows:
            logger.info("Repaired the ranking index from %d changed rows.", repaired.rows)


@shared_task(ignore_result=True)
def check_leaderboard() -> None:
    """Compare the index's fingerprint with the database's; beat runs it every 5 minutes."""
    try:
        checked = leaderboard_check()
    except (ranking.RepairBusy, ranking.RebuildInProgress):
        logger.info("The ranking index is being repaired or rebuilt; not checked this time.")
    else:
        if checked.equal:
            logger.info("The ranking index equals the database.")


def request(kind: Request) -> None:
    """Queue a repair or a rebuild; registered with the index in ``UsersConfig.ready``."""
    task = repair_leaderboard if kind == "repair" else rebuild_leaderboard
    task.apply_async(retry=False)
