"""Recording users' states in the index."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any, NamedTuple

from redis import Redis

from . import health, scripts
from .keys import member

# Users per script call. A script blocks Redis while it runs, so each call stays around a
# millisecond; a pipeline carries many calls in one round trip.
BATCH = 200
# How long a rebuild may go without showing signs of life before writers stop feeding it.
LEASE_SECONDS = 120


class Entry(NamedTuple):
    """One user's state as the index needs it (a tuple: rebuilds make millions)."""

    pk: Any
    points: int
    version: int
    age: int
    deleted: bool = False


class RebuildInProgress(Exception):
    """Another rebuild is filling the index, or took over from this one."""


def encode(entries: Iterable[Entry]) -> Iterator[list[Any]]:
    """The flat (member, points, state) triples that ``put.lua`` reads, a batch at a time:
    state is ``version * 256 + age``, or ``-version`` with empty points for a deletion."""
    entries = iter(entries)
    while batch := list(islice(entries, BATCH)):
        args: list[Any] = []
        for pk, points, version, age, deleted in batch:
            if deleted:
                args += (member(pk), "", -version)
            else:
                args += (member(pk), points, version * 256 + age)
        yield args


class Put(NamedTuple):
    """What a write to the index answered."""

    held: bool  # the index holds the entries for good: their marks may be cleared
    rank: int | None  # a single entry's rank after the write, when reads may trust it


def _run(redis: Redis, entries: Iterable[Entry], generation: str) -> list[list[Any]]:
    """``put.lua``'s answers, one a batch; raises ``RebuildInProgress`` when the targeted
    rebuild lost its lease."""
    prefix = health.keys().prefix
    batches = list(encode(entries))
    if len(batches) == 1:  # the usual single write: no pipeline to set up
        answers = [scripts.run("put", redis, prefix, generation, LEASE_SECONDS, *batches[0])]
    else:
        pipe = redis.pipeline(transaction=False)
        for args in batches:
            scripts.run("put", pipe, prefix, generation, LEASE_SECONDS, *args)
        answers = pipe.execute()
    if -1 in answers:
        raise RebuildInProgress
    return answers


def apply(redis: Redis, entries: Iterable[Entry], *, generation: str = "") -> bool:
    """Send ``entries`` to the live index and to a rebuild under way, or, given a generation,
    to that rebuild only. Returns whether every generation that will serve reads has them
    (not so while a rebuild fills one that writers do not feed yet). Raises
    ``RebuildInProgress`` when the targeted rebuild lost its lease."""
    return all(complete for _, complete, *_ in _run(redis, entries, generation))


def put(entries: Iterable[Entry]) -> Put:
    """Record users' states in the index (and in a rebuild under way), in one script call for
    a single user, which answers with that user's rank as well. Never raises: a write that
    does not reach Redis is applied again by this process at its next contact, and by the
    sweep from the row's mark."""
    entries = list(entries)
    if not entries:
        return Put(True, None)

    def operation(redis: Redis) -> Put:
        answers = _run(redis, entries, "")
        _, _, status, rank = answers[0]
        trusted = rank is not None and health.need(redis, int(status)) is None
        return Put(all(a[1] for a in answers), int(rank) if trusted else None)

    return health.call(operation, missed=entries) or Put(False, None)
