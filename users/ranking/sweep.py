"""The Redis side of a sweep: one pass at a time, vouching for the index when a pass applied
every mark it read, and freeing the indexes of databases that are gone.

The pass itself (``users.upkeep.leaderboard_sweep``) reads the marked rows, applies them with
``writes.apply`` and clears their marks. Reads trust the index for
``LEADERBOARD_INDEX_TRUST_SECONDS`` from the moment a successful pass began reading: every
write committed before that moment was marked or already held, so the pass applied it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

from django.conf import settings
from redis import Redis
from redis.exceptions import RedisError

from . import health, scripts
from .keys import Keys, text
from .rebuild import RedisUnavailable

# Keys freed in one step of freeing a gone database's index, so that Redis never stalls.
_FREED_AT_ONCE = 1_000


@dataclass(frozen=True)
class Swept:
    rows: int  # rows the pass applied from the backlog
    cleared: int  # marks (and bulk ranges) it cleared
    backlog: int  # rows still marked after it


class SweepBusy(Exception):
    """Another process is sweeping the index."""


@contextmanager
def sweeping() -> Iterator[Redis]:
    """Hold the sweep's lease (one pass at a time across every process) while the block runs.
    Raises ``SweepBusy`` or ``RedisUnavailable``."""
    index = health.keys()
    try:
        redis = health.client()
        if not redis.set(index.sweeping, "1", nx=True, ex=300):
            raise SweepBusy
    except RedisError as exc:
        raise RedisUnavailable(str(exc)) from exc
    try:
        yield redis
    except RedisError as exc:
        raise RedisUnavailable(str(exc)) from exc
    finally:
        with suppress(RedisError):  # else the lease expires
            redis.delete(index.sweeping)


def trust_ms(began: float) -> int:
    """How long reads may trust the index after a pass that began reading at ``began``
    (``time.monotonic()``) and applied everything it read."""
    bound = settings.LEADERBOARD_INDEX_TRUST_SECONDS
    return int((bound - (time.monotonic() - began)) * 1000)


def vouch(
    redis: Redis,
    *,
    trust: int,
    checkpoint: int | None,
    backlog: int,
    oldest_age_ms: int | None,
) -> bool:
    """Record a pass that applied every mark it read: reads trust the index for ``trust``
    ms. False when there is no live generation, or the index was retired meanwhile."""
    index = health.keys()
    return bool(
        scripts.run(
            "vouch",
            redis,
            index.prefix,
            trust,
            "" if checkpoint is None else checkpoint,
            backlog,
            "" if oldest_age_ms is None else oldest_age_ms,
            _alive_seconds(),
            int(settings.LEADERBOARD_TOMBSTONE_SECONDS * 1000),
            index.token,
            index.identities,
        )
    )


def _alive_seconds() -> int:
    return max(1, int(settings.LEADERBOARD_INDEX_IDLE_SECONDS))


def keep_alive(redis: Redis) -> None:
    """List this database's index among the Redis's indexes, and keep it from looking
    abandoned for ``LEADERBOARD_INDEX_IDLE_SECONDS`` (vouching does the same)."""
    index = health.keys()
    pipe = redis.pipeline(transaction=False)
    pipe.sadd(index.identities, index.token)
    pipe.set(index.alive, "1", ex=_alive_seconds())
    pipe.execute()


def distrust(redis: Redis) -> None:
    """Stop reads from trusting the index until a pass or a rebuild vouches for it again."""
    redis.delete(health.keys().trusted)


def held_checkpoint(redis: Redis) -> int:
    """The database checkpoint the index last saw."""
    return int(redis.get(health.keys().checkpoint) or 0)


def free_gone(redis: Redis, *, steps: int = 10) -> int:
    """Free, a step at a time, the indexes of other databases that are retired or that no sweep
    has kept alive for ``LEADERBOARD_INDEX_IDLE_SECONDS``. Each keeps its ``retired`` mark, so
    a process still holding its token reads its own database's index instead. Returns how
    many keys went."""
    own = health.keys()
    freed = 0
    for token in sorted(text(t) for t in redis.smembers(own.identities)):
        if token == own.token:
            continue
        gone = Keys(settings.LEADERBOARD_INDEX_PREFIX, token)
        if not redis.exists(gone.retired):
            if redis.exists(gone.alive):
                continue  # another database's index, in use
            redis.set(gone.retired, "1")
        cursor = 0
        while True:
            cursor, found = redis.scan(cursor, match=f"{gone.prefix}:*", count=_FREED_AT_ONCE)
            doomed = [key for key in found if text(key) != gone.retired]
            if doomed:
                freed += redis.unlink(*doomed)
            steps -= 1
            if cursor == 0:
                redis.srem(own.identities, token)
                break
            if steps <= 0:
                return freed
    return freed
