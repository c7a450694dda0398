"""Building the index whole, into a new generation, and freeing old ones."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from redis import Redis
from redis.exceptions import RedisError

from . import health, scripts
from .keys import text
from .writes import LEASE_SECONDS, Entry, RebuildInProgress, apply


class RedisUnavailable(Exception):
    """Redis does not answer, so there is no index to build or repair."""


@dataclass(frozen=True)
class Rebuilt:
    generation: str
    count: int
    # When the rebuild began (epoch ms): writes it may have missed are repaired from here.
    began_ms: int
    ready: bool


def rebuild(
    chunks: Iterable[list[Entry]], *, on_chunk: Callable[[int], object] | None = None
) -> Rebuilt:
    """Fill a new generation from ``chunks`` and make it the live one.

    Readers keep the old generation (or the database) until the swap. Writers apply to both
    generations meanwhile, and versions decide between a write and the rebuild's own
    (possibly older) reading of the same user. Raises ``RebuildInProgress`` or
    ``RedisUnavailable``.
    """
    keys = health.keys()
    began_ms = health.now_ms()
    try:
        redis = health.client()
        begun = scripts.run("begin", redis, keys.prefix, LEASE_SECONDS)
        if not begun:
            raise RebuildInProgress
        generation, misses = begun[0], begun[1]
        for chunk in chunks:
            apply(redis, chunk, generation=str(generation))
            if on_chunk:
                on_chunk(len(chunk))
        swapped = scripts.run("swap", redis, keys.prefix, generation, misses, began_ms)
        if not swapped:
            raise RebuildInProgress
        collect_garbage(redis)
        count = int(redis.zcard(keys.generation(generation) + "board"))
        return Rebuilt(str(generation), count, began_ms, ready=bool(swapped[1]))
    except RedisError as exc:
        raise RedisUnavailable(str(exc)) from exc


def collect_garbage(redis: Redis) -> int:
    """Free the keys of generations that are neither live nor being built (swapped out, or
    left by a rebuild that died), a thousand keys at a time so that Redis never stalls.
    Returns how many keys went."""
    keys = health.keys()
    # Members first: a rebuild records its generation and its lease in one step, so any
    # generation listed here that is not named below is finished with.
    listed = {text(g) for g in redis.smembers(keys.generations)}
    keep = {text(g) for g in redis.mget(keys.current, keys.building) if g}
    freed = 0
    for generation in listed - keep:
        batch = []
        for key in redis.scan_iter(match=keys.generation(generation) + "*", count=1000):
            batch.append(key)
            if len(batch) == 1000:
                freed += redis.unlink(*batch)
                batch = []
        if batch:
            freed += redis.unlink(*batch)
        redis.srem(keys.generations, generation)
    return freed
