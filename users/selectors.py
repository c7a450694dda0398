"""Reads of leaderboard users: from the ranking index when it can answer, else the database.

Both paths give the same order (points descending, then creation order) and the same
competition ranks. The database path is the degraded one: its counts and deep pages are
O(N), so each of its reads runs under ``LEADERBOARD_FALLBACK_SECONDS``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Avg, Count, F, Q, Sum, Window
from django.utils import timezone

from leaderboard.timelimit import time_limit

from . import name_fragments, ranking
from .models import User, UserQuerySet
from .profiles import Profile, profiles

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
    missing = [p.pk for p in keyed if p.pk not in found]
    if missing:
        rows = User.objects.alive().filter(pk__in=missing)
        for pk, version, name, age, address in rows.values_list(
            "pk", "version", "name", "age", "address"
        ):
            found[pk] = profile = Profile(name, age, address)
            profiles.put(pk, version, profile)
    return [RankedUser(p.pk, *found[p.pk], p.points, p.rank) for p in keyed if p.pk in found]


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


def search_page(
    *, text: str, offset: int, limit: int, points: int | None = None
) -> tuple[int, list[RankedUser]]:
    """Users whose name contains ``text`` (any case), in board order.

    On PostgreSQL, a 2- or 3-character fragment's count is kept by triggers
    (``name_fragments``), and its page comes from the shorter of two reads: walking the board's
    index until enough names match, or sorting every match the trigram index finds (migration
    users 0004). Longer fragments, a points filter and other databases count and sort the
    matches (SQLite and MongoDB scan)."""
    users = User.objects.alive().filter(name__icontains=text)
    if points is not None:
        users = users.filter(points=points)
    total = None if points is not None else name_fragments.matches(text)
    if total is not None:
        if offset >= total:
            return total, []
        walk = _walk_is_shorter(text=text, matches=total, wanted=offset + limit)
        in_order = users.in_leaderboard_order() if walk else _by_points(users)
        with fallback():
            _in_one_process()
            return total, with_ranks(list(in_order[offset : offset + limit]))
    in_order = _by_points(users)
    with fallback():
        _in_one_process()
        if not connection.features.supports_over_clause:  # MongoDB
            return users.count(), with_ranks(list(in_order[offset : offset + limit]))
        # The count rides along with the page (COUNT(*) OVER ()), so the matches are read once.
        page = list(in_order.annotate(total=Window(Count("pk")))[offset : offset + limit])
        total = page[0].total if page else (users.count() if offset else 0)  # type: ignore[attr-defined]
    return total, with_ranks(page)


def _by_points(users: UserQuerySet) -> UserQuerySet:
    # Ordered by `points + 0`: sorted like the board, but without the board's index, which
    # PostgreSQL would otherwise walk hoping to meet matches early, all of it for a rare name.
    # The matches come from the trigram index; sorting the first of them is cheap.
    return users.order_by((F("points") + 0).desc(), "pk")


def _in_one_process() -> None:
    """PostgreSQL guesses that a LIKE keeps a tenth of the rows, and for that many it would
    start parallel workers, which cost more than the few thousand rows a search reads (46 ms
    against 6 ms for a sort of 1,300 matches). For the rest of the fallback's transaction."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")


def _walk_is_shorter(*, text: str, matches: int, wanted: int) -> bool:
    """Whether walking the board to the ``wanted``-th match reads fewer rows than finding
    every match: the walk reads about ``wanted`` x board / ``matches`` rows."""
    if len(text) < 3:
        # No trigram to look up: finding the matches scans the table, which reads rows in
        # their order on disk, about three times as fast as the walk reads them.
        return 3 * wanted <= matches
    window = ranking.page(offset=0, limit=0)
    return window is not None and wanted * window.total <= matches * matches


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
    totals = (
        User.objects.alive()
        .filter(updated_at__lt=before)
        .aggregate(
            count=Count("pk"), points=Sum("points"), versions=Sum("version"), ages=Sum("age")
        )
    )
    recent = list(User.objects.filter(updated_at__gte=before).values_list("pk", flat=True))
    return RecentChanges(
        ranking.Fingerprint(
            *(int(totals[name] or 0) for name in ("count", "points", "versions", "ages"))
        ),
        recent,
    )
