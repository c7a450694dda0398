"""The database reads that feed and check the ranking index: every user's state for a
rebuild, the live board in order, and the fingerprint."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.utils import timezone

from leaderboard.db import planned

from . import ranking
from .models import User


def index_entries(*, chunk_size: int = 10_000) -> Iterator[list[ranking.Entry]]:
    """Every live user's index state, and recent deletions' tombstones, in chunks by primary
    key (a deletion older than ``LEADERBOARD_TOMBSTONE_SECONDS`` has no write left to stop)."""
    recent = timezone.now() - timedelta(seconds=settings.LEADERBOARD_TOMBSTONE_SECONDS)
    wanted = User.objects.filter(Q(deleted=False) | Q(updated_at__gte=recent)).order_by("pk")
    last = None
    while True:
        rows = wanted if last is None else wanted.filter(pk__gt=last)
        # Plain rows in the Entry layout: a million Entry objects would cost a tenth of the
        # rebuild.
        chunk = cast(
            list[ranking.Entry], list(rows.values_list(*ranking.Entry._fields)[:chunk_size])
        )
        if not chunk:
            return
        yield chunk
        last = chunk[-1][0]


def board_rows(*, chunk: int = 10_000) -> Iterator[list[tuple[Any, int]]]:
    """Every live (id, points) in board order, a chunk at a time, from the database: one
    score at a time, so that every query is a range of the board's index."""
    alive = User.objects.alive()
    points = alive.order_by("-points").values_list("points", flat=True).first()
    last = None
    while points is not None:
        rows = alive.filter(points=points).order_by("pk")
        values = list(
            (rows if last is None else rows.filter(pk__gt=last)).values_list("pk", "points")[:chunk]
        )
        if values:
            yield values
            last = values[-1][0]
            continue
        points = (
            alive.filter(points__lt=points)
            .order_by("-points")
            .values_list("points", flat=True)
            .first()
        )
        last = None


@dataclass(frozen=True)
class RecentChanges:
    """The database's fingerprint of live users changed before ``before``, and the ids of
    every user (live or not) changed since, whose index writes may still be on their way."""

    fingerprint: ranking.Fingerprint
    changed_since: list[Any]


def database_fingerprint(*, before: datetime) -> RecentChanges:
    # The ids first: a user changed after this read is then missing from the totals and from
    # the list alike, so that ``changed_count`` tells afterwards whether any was.
    recent = list(User.objects.filter(updated_at__gte=before).values_list("pk", flat=True))
    # A background check reads the whole table: in one process and without compiling, so
    # that it takes one CPU for a moment rather than three from a loaded service.
    with planned(max_parallel_workers_per_gather="0", jit="off"):
        totals = (
            User.objects.alive()
            .filter(updated_at__lt=before)
            .aggregate(
                count=Count("pk"), points=Sum("points"), versions=Sum("version"), ages=Sum("age")
            )
        )
    return RecentChanges(
        ranking.Fingerprint(
            *(int(totals[name] or 0) for name in ("count", "points", "versions", "ages"))
        ),
        recent,
    )


def changed_count(*, since: datetime) -> int:
    """How many users (live or not) changed since ``since``: more than ``database_fingerprint``
    listed means some changed after it read."""
    return User.objects.filter(updated_at__gte=since).count()
