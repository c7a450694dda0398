"""Reads of the index. Each returns None when the index cannot answer (Redis away, no index,
or one not known to be complete), and the caller asks the database instead."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

from redis import Redis

from . import health, scripts
from .keys import member, pk_of, text


@dataclass(slots=True)  # not frozen: built fifty times a page, four times cheaper
class Placed:
    """A user's place on the board. ``version`` is the user's version the index holds, which
    says whether a copy of their profile is current."""

    pk: Any  # the ORM's: an int, or an ObjectId on MongoDB
    points: int
    rank: int
    version: int


@dataclass(frozen=True, slots=True)
class Window:
    """Consecutive users of the board. ``position`` is the 0-based place of the first one;
    ``total`` is the size of what the window is taken from."""

    total: int
    position: int
    rows: list[Placed]


@dataclass(frozen=True, slots=True)
class Group:
    points: int
    count: int
    age_sum: int
    members: list[Placed]


@dataclass(frozen=True, slots=True)
class Groups:
    total: int
    groups: list[Group]


def _placed(
    position: int, rank: int, rows: Sequence[bytes], states: Sequence[bytes]
) -> list[Placed]:
    """The users of a window of the board, with competition ranks: the first one's comes from
    the script; after it a new score starts where its first user stands."""
    placed = []
    previous = None
    for i, (name, score, state) in enumerate(zip(rows[::2], rows[1::2], states, strict=True)):
        points = -int(float(score))
        if points != previous:
            if previous is not None:
                rank = position + i + 1
            previous = points
        placed.append(Placed(pk_of(name), points, rank, int(state) >> 8))
    return placed


def _read(name: str, args: Iterable[Any], answer: Any) -> Any:
    """Run read script ``name``; ``answer(result)`` turns what follows its status into the
    reply when the index may be trusted. Otherwise asks for what it needs."""

    def operation(redis: Redis) -> Any:
        status, *result = scripts.run(name, redis, health.keys().prefix, *args)
        wanted = health.need(redis, int(status))
        if wanted is None:
            return answer(result)
        health.ask(redis, wanted)
        return None

    return health.call(operation)


def page(*, offset: int, limit: int, points: int | None = None) -> Window | None:
    """Users ``offset`` to ``offset + limit`` in board order (of those with exactly
    ``points``, if given)."""
    return _read(
        "page",
        [offset, limit, "" if points is None else points],
        lambda r: Window(r[0], r[1], _placed(r[1], r[2], r[3], r[4])),
    )


def around(pk: Any, *, size: int) -> Window | None:
    """The user and up to ``size`` users on either side; ``position`` -1 and no rows when the
    user is not on the board."""

    def answer(r: list[Any]) -> Window:
        if r[0] == -1:
            return Window(0, -1, [])
        return Window(0, r[1], _placed(r[1], r[2], r[3], r[4]))

    return _read("around", [member(pk), size], answer)


def placement(pk: Any) -> Placed | bool | None:
    """The user's place; False when the user is not on the board."""

    def answer(r: list[Any]) -> Placed | bool:
        if not r[0]:
            return False
        return Placed(pk, -int(float(r[0])), int(r[1]), int(r[2]) // 256)

    return _read("placement", [member(pk)], answer)


def rank(pk: Any, points: int) -> int | None:
    """The user's competition rank at ``points``: 1 + the other users with more points."""
    return _read("rank", [member(pk), points], lambda r: int(r[0]))


def groups(*, offset: int, limit: int, per_group: int) -> Groups | None:
    """A page of the distinct scores, highest first, with each score's live count, the sum
    of its users' ages, and its first ``per_group`` users in board order."""

    def answer(r: list[Any]) -> Groups:
        return Groups(
            total=r[0],
            groups=[
                Group(
                    points=int(points),
                    count=int(count),
                    age_sum=int(ages),
                    members=_placed(0, 0, rows, states),
                )
                for points, count, ages, rows, states in r[1]
            ],
        )

    return _read("groups", [offset, limit, per_group], answer)


def ranks(points: Iterable[int]) -> dict[int, int] | None:
    """Competition rank for each points value: 1 + the number of users with more points."""
    values = sorted(set(points))
    return _read("ranks", values, lambda r: dict(zip(values, r[0], strict=True)))


def snapshot() -> list[tuple[Any, int]] | None:
    """Every (id, points) in board order, for tests and checks on small boards."""
    return _read(
        "snapshot",
        [],
        lambda r: [(pk_of(r[0][i]), -int(float(r[0][i + 1]))) for i in range(0, len(r[0]), 2)],
    )


# What /readyz says of an index reads may not use: missing, or else catching up.
_MISSING = {health.NO_INDEX, health.RETIRED}


def status() -> dict[str, Any]:
    """For /readyz: whether Redis answers, whether reads use the index, and the rows it has
    yet to confirm with the oldest one's age, as the last sweep found them."""

    def operation(redis: Redis) -> dict[str, Any]:
        state, *_ = scripts.run("fingerprint", redis, health.keys().prefix)
        wanted = health.need(redis, int(state))
        rows, oldest = redis.hmget(health.keys().backlog, "rows", "oldest")
        return {
            "redis": "ok",
            "index": (
                "ready"
                if wanted is None
                else "missing"
                if int(state) in _MISSING
                else "catching up"
            ),
            "pending": int(rows or 0),
            "oldest_pending_seconds": round(int(oldest) / 1000, 1) if oldest else None,
        }

    answer = health.call(operation)
    if answer is None:
        return {"redis": "unavailable", "index": "unavailable"}
    return answer


def scan(*, chunk: int = 10_000) -> Iterator[list[tuple[Any, int]]]:
    """Every (id, points) on the live board, in board order, a chunk at a time (for checks
    that compare the whole board; each chunk is one O(log N + chunk) read)."""
    redis = health.client()
    board = health.keys().generation(text(redis.get(health.keys().current) or b"")) + "board"
    for first in itertools.count(0, chunk):
        rows = cast(
            list[tuple[bytes, float]],
            redis.zrange(board, first, first + chunk - 1, withscores=True),
        )
        if not rows:
            return
        yield [(pk_of(name), -int(score)) for name, score in rows]
