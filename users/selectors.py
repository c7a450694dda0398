"""Reads of leaderboard users: from the ranking index when it can answer, else the database.

Both paths give the same order (points descending, then creation order) and the same
competition ranks. The database path is the degraded one: its counts and deep pages are
O(N), so each of its reads runs under ``LEADERBOARD_FALLBACK_SECONDS``.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Avg, Count, Q

from leaderboard.db import prepared_cursor
from leaderboard.timelimit import time_limit

from . import ranking
from .models import User, user_columns
from .profiles import Row, profiles

T = TypeVar("T")


# Not frozen: a frozen dataclass costs four times as much to build, and a page builds 50.
@dataclass(slots=True)
class RankedUser:
    """A user as every endpoint answers it."""

    id: Any
    name: str
    age: int
    address: str
    points: int
    rank: int


@dataclass(slots=True)
class ScoreGroup:
    points: int
    count: int
    average_age: float
    users: list[RankedUser]


@dataclass(frozen=True, slots=True)
class Around:
    user: RankedUser
    above: list[RankedUser]
    below: list[RankedUser]


def user_pk(value: Any) -> Any:
    """The primary key ``value`` names, or ``User.DoesNotExist`` if it cannot name one."""
    try:
        pk = User._meta.pk.to_python(value)
    except ValidationError:
        raise User.DoesNotExist from None
    if isinstance(pk, int) and not 0 < pk < 2**63:  # no row has such an id
        raise User.DoesNotExist
    return pk


def fallback() -> Any:
    """The time limit on a read the index could not answer."""
    return time_limit(settings.LEADERBOARD_FALLBACK_SECONDS)


def _ranked(user: User, rank: int) -> RankedUser:
    return RankedUser(user.pk, user.name, user.age, user.address, user.points, rank)


def ranks_of(points: set[int]) -> dict[int, int]:
    """Competition rank of each points value: 1 + the number of live users with more."""
    ranks = ranking.ranks(points)
    if ranks is None:
        alive = User.objects.alive()
        with fallback():
            ranks = {p: alive.filter(points__gt=p).count() + 1 for p in points}
    return ranks


def with_ranks(users: Sequence[User]) -> list[RankedUser]:
    """The users with their competition ranks."""
    ranks = ranks_of({user.points for user in users})
    return [_ranked(user, ranks[user.points]) for user in users]


def board_size() -> int:
    """How many users are on the board."""
    window = ranking.page(offset=0, limit=0)
    if window is not None:
        return window.total
    with fallback():
        return User.objects.alive().count()


def _from_index(placed: Sequence[ranking.Placed]) -> list[RankedUser]:
    """Users the index placed, with their profiles from this process's copies at the versions
    the index holds, or from the database. A user deleted meanwhile is left out."""
    to_pk = User._meta.pk.to_python
    keyed = [(p if isinstance(p.pk, int) else _with_pk(p, to_pk(p.pk))) for p in placed]
    found = profiles.get_many((p.pk, p.version) for p in keyed)
    if len(found) < len(keyed):
        rows = _profile_rows([p.pk for p in keyed if p.pk not in found])
        profiles.put_many(rows)
        found.update((row[0], row[2:]) for row in rows)
    ranked = []
    for p in keyed:
        if (profile := found.get(p.pk)) is not None:
            name, age, address = profile
            ranked.append(RankedUser(p.pk, name, age, address, p.points, p.rank))
    return ranked


_PROFILE = ("pk", "version", "name", "age", "address")


def _profile_rows(pks: list[Any]) -> list[Row]:
    """``_PROFILE`` of the live users among ``pks``. On the SQL databases, in a statement
    written here: the ORM's compiling of an IN of fifty ids cost as much as the rest of a
    page. The ids come from the index, as the ORM's own ``to_python`` makes them."""
    if connection.vendor == "mongodb":
        return list(User.objects.alive().filter(pk__in=pks).values_list(*_PROFILE))
    # PostgreSQL takes the ids as one array, so that the statement is the same for any page
    # and is prepared once; SQLite, as a list of parameters. The array goes as its text:
    # psycopg's dumping of a list checks every element, and cost twice the rest of the call.
    array = connection.vendor == "postgresql"
    with prepared_cursor() as cursor:
        cursor.execute(
            _profile_sql(connection.vendor, 0 if array else len(pks)),
            [f"{{{','.join(map(str, pks))}}}"] if array else pks,
        )
        return cursor.fetchall()


@functools.lru_cache(maxsize=64)
def _profile_sql(vendor: str, count: int) -> str:
    """``_profile_rows``' statement: for ``count`` ids, or for an array of them (0)."""
    table, column = user_columns(connection)
    if count == 0:
        wanted = f"= ANY(%s::{User._meta.pk.db_type(connection)}[])"
    else:
        wanted = f"IN ({', '.join(['%s'] * count)})"
    # Names from the model, quoted; every value is a parameter.
    return (
        f"SELECT {', '.join(column[name] for name in _PROFILE)} "  # noqa: S608
        f"FROM {table} WHERE NOT {column['deleted']} AND {column['pk']} {wanted}"
    )


def _with_pk(placed: ranking.Placed, pk: Any) -> ranking.Placed:
    return ranking.Placed(pk, placed.points, placed.rank, placed.version)


def user_get(*, user_id: Any) -> RankedUser:
    pk = user_pk(user_id)
    placed = ranking.placement(pk)
    if isinstance(placed, ranking.Placed) and (users := _from_index([placed])):
        return users[0]
    return with_ranks([User.objects.alive().get(pk=pk)])[0]


def board_page(
    *, offset: int, limit: int, points: int | None = None
) -> tuple[int, list[RankedUser]]:
    """The board's size (or the number of users with exactly ``points``) and the users from
    ``offset`` to ``offset + limit`` in order."""
    window = ranking.page(offset=offset, limit=limit, points=points)
    if window is not None:
        return window.total, _from_index(window.rows)
    users = User.objects.alive()
    if points is not None:
        users = users.filter(points=points)
    with fallback():
        total = users.count()
        page = list(users.in_leaderboard_order()[offset : offset + limit])
    return total, with_ranks(page)


def user_around(*, user_id: Any, size: int) -> Around:
    """The user, and the ``size`` users just above and just below them by position."""
    pk = user_pk(user_id)
    window = ranking.around(pk, size=size)
    if window is not None and window.rows:
        users = _from_index(window.rows)
        at = next((i for i, user in enumerate(users) if user.id == pk), None)
        if at is not None:
            return Around(users[at], users[:at], users[at + 1 :])
    user = User.objects.alive().get(pk=pk)
    ahead = Q(points__gt=user.points) | Q(points=user.points, pk__lt=pk)
    behind = Q(points__lt=user.points) | Q(points=user.points, pk__gt=pk)
    alive = User.objects.alive()
    with fallback():
        above = list(alive.filter(ahead).order_by("points", "-pk")[:size])[::-1]
        below = list(alive.filter(behind).in_leaderboard_order()[:size])
    ranked = with_ranks([*above, user, *below])
    return Around(ranked[len(above)], ranked[: len(above)], ranked[len(above) + 1 :])


def groups_page(*, offset: int, limit: int, users_per_group: int) -> tuple[int, list[ScoreGroup]]:
    """The number of distinct scores, and a page of them, highest first, each with its live
    count, average age and first ``users_per_group`` users in board order.

    From the index, the count and the page are one consistent read, exact at that moment.
    """
    page = ranking.groups(offset=offset, limit=limit, per_group=users_per_group)
    if page is None:
        return _groups_from_database(offset, limit, users_per_group)
    members: dict[int, list[RankedUser]] = {}
    for user in _from_index([m for group in page.groups for m in group.members]):
        members.setdefault(user.points, []).append(user)
    return page.total, [
        ScoreGroup(
            group.points,
            group.count,
            round(group.age_sum / group.count, 2),
            members.get(group.points, []),
        )
        for group in page.groups
    ]


def _groups_from_database(
    offset: int, limit: int, users_per_group: int
) -> tuple[int, list[ScoreGroup]]:
    """The degraded path: a GROUP BY over every live row, computed at most once a second or
    two by each process and never for longer than the fallback's time limit."""
    alive = User.objects.alive()

    def compute() -> tuple[int, list[dict[str, Any]]]:
        with fallback():
            total = alive.values("points").distinct().count()
            rows = list(
                alive.values("points")
                .annotate(count=Count("pk"), average_age=Avg("age"))
                .order_by("-points")[offset : offset + limit]
            )
        return total, rows

    total, rows = _recent(("groups", offset, limit), compute)
    groups = []
    with fallback():
        for row in rows:
            first = alive.filter(points=row["points"]).order_by("pk")[:users_per_group]
            groups.append(
                ScoreGroup(
                    row["points"],
                    row["count"],
                    round(float(row["average_age"]), 2),
                    [_ranked(user, 0) for user in first],
                )
            )
    return total, groups


_memo: dict[Any, tuple[float, Any]] = {}
_memo_lock = threading.Lock()


def _recent(key: Any, compute: Callable[[], T]) -> T:
    """``compute()``, reused by this process for ``LEADERBOARD_FALLBACK_REUSE_SECONDS``."""
    now = time.monotonic()
    with _memo_lock:
        held = _memo.get(key)
    if held is not None and now - held[0] < settings.LEADERBOARD_FALLBACK_REUSE_SECONDS:
        return held[1]
    value = compute()
    with _memo_lock:
        if len(_memo) > 1000:
            _memo.clear()
        _memo[key] = (now, value)
    return value
