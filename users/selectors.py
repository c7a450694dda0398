"""Reads of leaderboard users: from the ranking index when it can answer, else the database.

Both paths give the same order (points descending, then creation order) and the same
competition ranks.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Avg, Count

from leaderboard.shortcache import remember

from . import ranking
from .models import User, UserQuerySet


def user_pk(value: Any) -> Any:
    """The primary key ``value`` names, or ``User.DoesNotExist`` if it cannot name one."""
    try:
        return User._meta.pk.to_python(value)
    except ValidationError:
        raise User.DoesNotExist from None


def with_ranks(users: list[User]) -> list[User]:
    """Set ``rank`` on each user: 1 + the number of live users with more points."""
    points = {user.points for user in users}
    ranks = ranking.ranks(points)
    if ranks is None:
        alive = User.objects.alive()
        ranks = {p: alive.filter(points__gt=p).count() + 1 for p in points}
    for user in users:
        user.rank = ranks[user.points]
    return users


def user_get(*, user_id: Any) -> User:
    return with_ranks([User.objects.alive().get(pk=user_pk(user_id))])[0]


def _in_index_order(ids: list[Any]) -> list[User]:
    found = User.objects.alive().in_bulk(ids)
    return [found[pk] for pk in ids if pk in found]


@dataclass(frozen=True)
class Leaderboard:
    """The board (or the users with exactly ``points``) as a lazily sliced sequence, so that
    DRF's paginator asks only for the count and the page it shows."""

    points: int | None = None

    def _queryset(self) -> UserQuerySet:
        users = User.objects.alive()
        if self.points is not None:
            users = users.filter(points=self.points)
        return users.in_leaderboard_order()

    def count(self) -> int:
        total = ranking.count(points=self.points)
        return self._queryset().count() if total is None else total

    def __getitem__(self, window: slice) -> list[User]:
        offset, stop = window.start or 0, window.stop
        ids = ranking.window(offset=offset, limit=stop - offset, points=self.points)
        users = list(self._queryset()[offset:stop]) if ids is None else _in_index_order(ids)
        return with_ranks(users)


class ScoreGroup(TypedDict):
    points: int
    count: int
    average_age: float
    users: list[User]


@dataclass(frozen=True)
class ScoreGroups:
    """Live users grouped by points, highest first, as a lazily sliced sequence.

    Counts and average ages come from a GROUP BY in the database, which reads every live
    row: each page of it is shared for ``LEADERBOARD_GROUPS_CACHE_SECONDS`` by every process.
    The users shown in each group (at most ``users_per_group``, in leaderboard order) come from
    the index in one round trip, or from the database when the index cannot answer.
    """

    users_per_group: int

    def count(self) -> int:
        return remember(
            f"{settings.LEADERBOARD_INDEX_PREFIX}:groups:count",
            settings.LEADERBOARD_GROUPS_CACHE_SECONDS,
            User.objects.alive().values("points").distinct().count,
        )

    def __getitem__(self, window: slice) -> list[ScoreGroup]:
        rows = remember(
            f"{settings.LEADERBOARD_INDEX_PREFIX}:groups:{window.start}:{window.stop}",
            settings.LEADERBOARD_GROUPS_CACHE_SECONDS,
            lambda: list(
                User.objects.alive()
                .values("points")
                .annotate(count=Count("pk"), average_age=Avg("age"))
                .order_by("-points")[window]
            ),
        )
        members = self._members([row["points"] for row in rows])
        return [
            ScoreGroup(
                points=row["points"],
                count=row["count"],
                average_age=round(float(row["average_age"]), 2),
                users=members[row["points"]],
            )
            for row in rows
        ]

    def _members(self, points: Sequence[int]) -> dict[int, list[User]]:
        ids = ranking.members_with_points(points, limit=self.users_per_group)
        if ids is None:
            alive = User.objects.alive().in_leaderboard_order()
            return {p: list(alive.filter(points=p)[: self.users_per_group]) for p in points}
        found = User.objects.alive().in_bulk([pk for group in ids.values() for pk in group])
        return {p: [found[pk] for pk in group if pk in found] for p, group in ids.items()}


def index_entries(*, chunk_size: int = 10_000) -> Iterator[list[ranking.Entry]]:
    """Every user's index state, deleted ones included, in chunks by primary key."""
    last = None
    while True:
        rows = User.objects.order_by("pk")
        if last is not None:
            rows = rows.filter(pk__gt=last)
        chunk = [
            ranking.Entry(pk, points, version, deleted=deleted_at is not None)
            for pk, points, version, deleted_at in rows.values_list(
                "pk", "points", "version", "deleted_at"
            )[:chunk_size]
        ]
        if not chunk:
            return
        yield chunk
        last = chunk[-1].pk
