"""Keeping the ranking index equal to the database: the sweep, the rebuild, and the check that
decides between them.

The sweep (every second, from Celery beat) applies every row the database marks as pending
and clears the marks the index then holds: whatever a write's own hand-over missed is back
within a pass, at a cost that grows with the backlog, not with the board. A rebuild (minutes at
50 million users) is the last resort: for an index that is missing, or whose fingerprint still
differs from the database's after a sweep.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from . import ranking
from .backlog import (
    backlog,
    backlog_entries,
    marked_entries,
    marks_clear,
    pending_ranges,
    range_entries,
    ranges_clear,
)
from .identity import identity_advance, identity_current
from .index_feeds import board_rows, changed_count, database_fingerprint, index_entries

logger = logging.getLogger(__name__)


def leaderboard_rebuild(
    *, chunk_size: int = 10_000, on_chunk: Callable[[int], object] | None = None
) -> ranking.Rebuilt:
    """Build the index whole from the database and swap it in.

    Raises ``ranking.RebuildInProgress`` or ``ranking.RedisUnavailable``.
    """
    return ranking.rebuild(
        index_entries(chunk_size=chunk_size),
        backlog=backlog_entries,
        checkpoint=identity_current().checkpoint,
        on_chunk=on_chunk,
    )


def leaderboard_sweep() -> ranking.Swept | ranking.Rebuilt:
    """One pass: make sure the index is this database's, apply every marked row and pending
    range, clear what the index now holds, and vouch for it. Builds the index whole if there
    is none. Raises ``ranking.SweepBusy``, ``ranking.RebuildInProgress`` or
    ``ranking.RedisUnavailable``."""
    _adopt_database()
    with ranking.sweeping() as redis:
        if not redis.exists(ranking.health.keys().current):
            logger.warning("There is no ranking index; building it whole.")
            return leaderboard_rebuild()
        if ranking.held_checkpoint(redis) < identity_current().checkpoint:
            # Marks were cleared on confirmations the index no longer holds: Redis came back
            # from an older copy (a failover to a replica that lagged, a lost append-only
            # tail). Which rows they were is not known, so the index is built again.
            logger.warning("The ranking index lost writes it had confirmed; building it whole.")
            ranking.distrust(redis)
            return leaderboard_rebuild()
        began = time.monotonic()
        rows = cleared = 0
        ranges = pending_ranges()  # read after `began`, like the marks: see ranking/sweep.py
        for chunk in marked_entries():
            rows += len(chunk)
            if ranking.apply(redis, chunk):
                cleared += marks_clear(chunk)
        for pending in ranges:
            complete = True
            for chunk in range_entries(pending):
                rows += len(chunk)
                complete = ranking.apply(redis, chunk) and complete
            if complete:
                ranges_clear([pending])
                cleared += 1
        token = ranking.health.keys().token
        checkpoint = identity_advance(token=token) if cleared else None
        left = backlog()
        age = None if left.oldest is None else timezone.now() - left.oldest
        ranking.vouch(
            redis,
            trust=ranking.trust_ms(began),
            checkpoint=checkpoint,
            backlog=left.rows,
            oldest_age_ms=None if age is None else max(0, age // timedelta(milliseconds=1)),
        )
        ranking.free_gone(redis)
    return ranking.Swept(rows=rows, cleared=cleared, backlog=left.rows)


def _adopt_database() -> None:
    """Make sure this process reads the index of the database it is connected to: after a
    ``flush`` or a restore, the index it knew is retired, so that no process reads it again,
    and the database's own is used."""
    known = ranking.health.keys()
    if ranking.health.reclaim().token != known.token:
        ranking.retire(known.token)


# Users changed within the check's margin past which it does not compare: the fingerprint
# script subtracts each of them while it blocks Redis. A seed passes it at once.
CHECK_CHANGED_MAX = 10_000


@dataclass(frozen=True)
class Checked:
    """What ``leaderboard_check`` found and did."""

    equal: bool
    rebuilt: bool = False
    differences: list[str] = field(default_factory=list)
    # False when users kept changing while each comparison read, so that no difference it
    # found was proof: the next check tries again.
    settled: bool = True


def leaderboard_check(*, attempts: int = 3, pause: float = 1.0) -> Checked:
    """Sweep the index, then compare its fingerprint with the database's; rebuild it if they
    still differ after ``attempts`` comparisons, one of them made while no user changed.

    Users changed within the check's margin are left out of both sides, since their index
    writes may still be on their way: the comparison holds while writes go on.
    """
    if isinstance(leaderboard_sweep(), ranking.Rebuilt):
        return Checked(equal=False, rebuilt=True, differences=["there was no index"])
    margin = settings.LEADERBOARD_CHECK_MARGIN_SECONDS
    differences: list[str] = []
    settled = False
    for attempt in range(attempts):
        if attempt:
            time.sleep(pause)
        before = timezone.now() - timedelta(seconds=margin)
        if changed_count(since=before) > CHECK_CHANGED_MAX:
            differences = ["too many users changing to compare"]
            continue
        database = database_fingerprint(before=before)
        index = ranking.fingerprint(leaving_out=database.changed_since)
        if index is None:
            differences, settled = ["there was no index"], True
            break
        differences = index.differences(database.fingerprint)
        if not differences:
            return Checked(equal=True)
        # A user changed after the database's list of recent changes is in neither side's
        # leave-out, and may be in the index's sums only: unless nobody was, a bulk load or a
        # storm of writes would look like a lasting difference and rebuild a sound index.
        settled = settled or changed_count(since=before) == len(database.changed_since)
    if not settled:
        logger.warning(
            "The ranking index differed from the database (%s) while users kept changing, so "
            "nothing was proven; the next check compares again.",
            "; ".join(differences),
        )
        return Checked(equal=False, differences=differences, settled=False)
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
