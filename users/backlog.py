"""What the ranking index may lack, as the database knows it: the rows whose ``index_pending``
mark is set, and the ranges of bulk loads (``PendingRange``); and clearing both once the index
holds what they mark.

A mark is set in the same UPDATE (or INSERT) that changes the row, so a committed write is
always either marked or held by the index; a mark is cleared only on the version the index
holds, so a newer write keeps its own.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from typing import Any, cast

from django.db.models import Count, Min, Q

from . import ranking
from .models import PendingRange, User

# Conditions per clearing UPDATE: each is `pk IN (...) AND version = v`, OR-ed together, and
# SQLite limits how deep an expression may nest.
_CLEARED_AT_ONCE = 100


@dataclass(frozen=True)
class Backlog:
    """How much the index may lack: marked rows, rows in pending ranges, and when the
    oldest marked row was written (None without one), for /readyz and the logs."""

    rows: int
    ranges: int
    oldest: datetime | None


def _entries(rows: Any, chunk_size: int) -> Iterator[list[ranking.Entry]]:
    """``rows``' index states in primary-key chunks (plain tuples in the Entry layout)."""
    last = None
    while True:
        page = rows if last is None else rows.filter(pk__gt=last)
        chunk = cast(
            list[ranking.Entry],
            list(page.order_by("pk").values_list(*ranking.Entry._fields)[:chunk_size]),
        )
        if not chunk:
            return
        yield chunk
        last = chunk[-1][0]


def marked_entries(*, chunk_size: int = 5_000) -> Iterator[list[ranking.Entry]]:
    """The index state of every marked row, through the partial index of marked rows."""
    return _entries(User.objects.filter(index_pending=True), chunk_size)


def pending_ranges() -> list[PendingRange]:
    return list(PendingRange.objects.order_by("pk"))


def range_entries(
    pending: PendingRange, *, chunk_size: int = 10_000
) -> Iterator[list[ranking.Entry]]:
    """The index state of every user in a bulk load's range."""
    rows = User.objects.filter(pk__gte=pending.first_id, pk__lte=pending.last_id)
    return _entries(rows, chunk_size)


def backlog_entries(*, chunk_size: int = 5_000) -> Iterator[list[ranking.Entry]]:
    """Everything the index may lack: the marked rows, then the pending ranges' users."""
    yield from marked_entries(chunk_size=chunk_size)
    for pending in pending_ranges():
        yield from range_entries(pending, chunk_size=chunk_size)


def marks_clear(entries: Iterable[ranking.Entry]) -> int:
    """Clear the marks of rows still at the versions given (which the index holds); returns
    how many were cleared."""
    by_version: dict[int, list[Any]] = {}
    for entry in entries:
        by_version.setdefault(entry[2], []).append(entry[0])
    conditions = [Q(version=version, pk__in=pks) for version, pks in by_version.items()]
    cleared = 0
    for first in range(0, len(conditions), _CLEARED_AT_ONCE):
        part = conditions[first : first + _CLEARED_AT_ONCE]
        rows = User.objects.filter(reduce(operator.or_, part), index_pending=True)
        cleared += rows.update(index_pending=False)
    return cleared


def range_mark(pks: Sequence[Any]) -> PendingRange:
    """Mark a bulk load's users, in the transaction that inserts them."""
    return PendingRange.objects.create(first_id=min(pks), last_id=max(pks))


def ranges_clear(ranges: Iterable[PendingRange]) -> None:
    PendingRange.objects.filter(pk__in=[pending.pk for pending in ranges]).delete()


def backlog() -> Backlog:
    marked = User.objects.filter(index_pending=True).aggregate(
        rows=Count("pk"), oldest=Min("updated_at")
    )
    ranges = pending_ranges()
    in_ranges = sum(
        User.objects.filter(pk__gte=r.first_id, pk__lte=r.last_id).count() for r in ranges
    )
    return Backlog(marked["rows"] + in_ranges, len(ranges), marked["oldest"])
