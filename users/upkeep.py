"""Keeping the ranking index equal to the database: repair, rebuild, and the check that
decides between them.

A repair (every few seconds, from Celery beat) re-applies the rows changed since the index's
watermark: whatever a write missed is back within seconds, at the cost of a small range scan.
A rebuild (minutes at 50 million users) is the last resort: for an index that is missing, or
whose fingerprint still differs from the database's after a repair.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from . import ranking
from .selectors import board_rows, database_fingerprint, entries_changed_since, index_entries

logger = logging.getLogger(__name__)


def leaderboard_rebuild(
    *, chunk_size: int = 10_000, on_chunk: Callable[[int], object] | None = None
) -> ranking.Rebuilt:
    """Build the index whole from the database and swap it in; if a process reported a
    missed write meanwhile, repair it at once.

    Raises ``ranking.RebuildInProgress`` or ``ranking.RedisUnavailable``.
    """
    rebuilt = ranking.rebuild(
        index_entries(chunk_size=chunk_size),
        changed_since=entries_changed_since,
        on_chunk=on_chunk,
    )
    if not rebuilt.ready:  # a repair under way, or the next scheduled one, covers it too
        with suppress(ranking.RepairBusy):
            ranking.repair(entries_changed_since)
    return rebuilt


def leaderboard_repair() -> ranking.Repaired | ranking.Rebuilt:
    """Apply the rows changed since the index's watermark; build the index whole if there is
    none. Raises ``ranking.RepairBusy``, ``ranking.RebuildInProgress`` or
    ``ranking.RedisUnavailable``."""
    repaired = ranking.repair(entries_changed_since)
    if repaired is None:
        logger.warning("There is no ranking index; building it whole.")
        return leaderboard_rebuild()
    return repaired


@dataclass(frozen=True)
class Checked:
    """What ``leaderboard_check`` found and did."""

    equal: bool
    rebuilt: bool = False
    differences: list[str] = field(default_factory=list)


def leaderboard_check(*, attempts: int = 3, pause: float = 1.0) -> Checked:
    """Repair the index, then compare its fingerprint with the database's; rebuild it if they
    still differ after ``attempts`` comparisons.

    Users changed within the repair margin are left out of both sides, since their index
    writes may still be on their way: the comparison holds while writes go on.
    """
    if isinstance(leaderboard_repair(), ranking.Rebuilt):
        return Checked(equal=False, rebuilt=True, differences=["there was no index"])
    margin = settings.LEADERBOARD_REPAIR_MARGIN_SECONDS
    differences: list[str] = []
    for attempt in range(attempts):
        if attempt:
            time.sleep(pause)
        database = database_fingerprint(before=timezone.now() - timedelta(seconds=margin))
        index = ranking.fingerprint(leaving_out=database.changed_since)
        if index is None:
            differences = ["there was no index"]
            break
        differences = index.differences(database.fingerprint)
        if not differences:
            return Checked(equal=True)
    logger.warning(
        "The ranking index differs from the database (%s); rebuilding it.", "; ".join(differences)
    )
    leaderboard_rebuild()
    return Checked(equal=False, rebuilt=True, differences=differences)


def leaderboard_differences() -> set[object]:
    """The ids of the users on which the index and the database disagree (on one side only,
    or with other points), comparing every user of both in board order. Memory stays small
    while they mostly agree: both sides are merged a chunk at a time."""

    def rows(chunks: Iterator[list[tuple[Any, int]]]) -> Iterator[tuple[int, Any]]:
        for chunk in chunks:
            for pk, points in chunk:
                yield -points, pk  # board order, as one sortable key

    only_index: set[Any] = set()
    only_database: set[Any] = set()
    index, database = rows(ranking.scan()), rows(board_rows())
    left, right = next(index, None), next(database, None)
    while left is not None or right is not None:
        if right is None or (left is not None and left < right):
            assert left is not None
            only_index.add(left[1])
            left = next(index, None)
        elif left is None or right < left:
            only_database.add(right[1])
            right = next(database, None)
        else:
            left, right = next(index, None), next(database, None)
    return only_index | only_database
