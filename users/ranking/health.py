"""Reaching Redis, which database's index to read, and whether a read may trust it.

**Which index.** The index's keys carry the token of the database they belong to
(``users.IndexIdentity``), read once per process: a fresh, flushed or restored database has
another token, so it never reads the board of the database that was there before. An index
whose database is gone is marked retired; a process that meets the mark reads its token again.

**Trust.** Every write marks its row in the database, and the sweep (``users/upkeep.py``)
applies the marked rows and clears their marks. Each pass that applied every mark it read
sets ``trusted`` to expire ``LEADERBOARD_INDEX_TRUST_SECONDS`` after it began reading, by
Redis's own clock. So a read trusts the index exactly while no write can have been missing
from it for longer than that bound; past it, reads go to the database until a pass succeeds.

**Own writes.** A process whose index write did not reach Redis keeps it, applies it again at
its next contact, and until then reads from the database, so it always sees its own writes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import Signal, receiver
from django_redis import get_redis_connection
from redis import Redis
from redis.exceptions import RedisError

from .keys import Keys

if TYPE_CHECKING:
    from .writes import Entry

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Statuses the read scripts answer first (``live`` in lua/common.lua).
NO_INDEX, DOUBTFUL, TRUSTED, RETIRED = 0, 1, 2, 3

# Missed writes a process keeps to apply again itself; past this many it waits for the sweep,
# which finds them from their marks.
MISSED_KEPT = 10_000


class Need(Enum):
    """What an index that cannot answer needs."""

    SWEEP = "sweep"
    REBUILD = "rebuild"


# Sent, at most once per window across every process, when a read found the index missing
# or doubtful; ``users.tasks`` queues the work.
index_needs = Signal()


class _Health:
    """This process's view: when to try Redis again after it failed to answer, which
    database's index it reads, and its own writes the index may lack."""

    retry_at = 0.0
    token: str | None = None
    # The keys of the token's index and the Redis client, made once: every read and write
    # asks for both.
    index: Keys | None = None
    redis: Redis | None = None
    missed: dict[Any, Entry]
    # The sweep's pass count this process waits for, when it missed more than it kept.
    awaited_pass: int | None = None

    def __init__(self) -> None:
        self.missed = {}


_health = _Health()


def keys() -> Keys:
    """The keys of this database's index."""
    token = _health.token
    if token is None:
        return reclaim()
    index = _health.index
    if index is None or index.token != token:
        index = _health.index = Keys(settings.LEADERBOARD_INDEX_PREFIX, token)
    return index


def reclaim() -> Keys:
    """Read the database's token again, and check that its index may serve it: one that is
    retired, or ahead of the database (which was then restored from a backup older than the
    index), is given up, and the database gets a new token and a new index."""
    from users.identity import identity_current, identity_renew  # the models: apps are ready

    token = identity_current().token
    held = Keys(settings.LEADERBOARD_INDEX_PREFIX, token)
    try:
        checkpoint, retired = client().mget(held.checkpoint, held.retired)
    except RedisError:
        checkpoint = retired = None  # the sweep makes the same check once Redis answers
    # Read after the index's: the database's checkpoint only grows, and the index's follows
    # it, so only a database that went back can be behind what the index saw before.
    identity = identity_current()
    if identity.token != token:
        return reclaim()  # renewed meanwhile by another process
    if retired or (checkpoint is not None and int(checkpoint) > identity.checkpoint):
        logger.warning("The ranking index is not this database's (restored?); making a new one.")
        retire(token)
        token = identity_renew(stale=token).token
    _health.token = token
    return Keys(settings.LEADERBOARD_INDEX_PREFIX, token)


def retire(token: str) -> None:
    """Mark the index of ``token`` as belonging to a database that is gone, so that no
    process reads it again; its keys are freed in the background (``identity.free``)."""
    gone = Keys(settings.LEADERBOARD_INDEX_PREFIX, token)
    try:
        redis = client()
        redis.set(gone.retired, "1")
        redis.sadd(gone.identities, token)
    except RedisError as exc:
        logger.warning("Could not retire the ranking index of %s (%s).", token, exc)
    if _health.token == token:
        _health.token = None


def client() -> Redis:
    if _health.redis is None:
        _health.redis = get_redis_connection("default")
    return _health.redis


def call(operation: Callable[[Redis], T], *, missed: list[Entry] | None = None) -> T | None:
    """Run one operation against Redis; None when Redis is away. ``missed``: the entries the
    operation writes, kept to be applied again if it fails."""
    if time.monotonic() < _health.retry_at:
        _keep(missed)
        return None
    try:
        redis = client()
        if _health.missed:
            _apply_missed(redis)
        return operation(redis)
    except RedisError as exc:
        logger.warning("Redis did not answer (%s); serving from the database.", exc)
        _health.retry_at = time.monotonic() + settings.LEADERBOARD_REDIS_RETRY_SECONDS
        _keep(missed)
        return None


def _keep(missed: list[Entry] | None) -> None:
    if not missed:
        return
    # A bulk load past the limit is not copied only to be dropped.
    if len(missed) <= MISSED_KEPT:
        # Indexed, not by name: bulk loads send plain tuples in Entry's layout.
        for entry in missed:
            pk, version = entry[0], entry[2]
            held = _health.missed.get(pk)
            if held is None or held[2] < version:
                _health.missed[pk] = entry
    if len(missed) > MISSED_KEPT or len(_health.missed) > MISSED_KEPT:
        # Too many to keep: the rows' marks cover them, and this process reads from the
        # database until a sweep has passed.
        _health.missed.clear()
        _health.awaited_pass = -1  # set from the pass count at the next contact


def _apply_missed(redis: Redis) -> None:
    from .writes import apply

    apply(redis, list(_health.missed.values()))
    _health.missed.clear()
    logger.info("Applied this process's index writes that had missed Redis.")


def need(redis: Redis, status: int) -> Need | None:
    """What the index needs before a read may use it, or None when it may; answers only."""
    if status == RETIRED:
        _health.token = None  # the next read finds this database's own index
        return Need.REBUILD
    if status == NO_INDEX:
        return Need.REBUILD
    if _health.awaited_pass is not None and not _passed(redis):
        return Need.SWEEP
    return Need.SWEEP if status == DOUBTFUL else None


def _passed(redis: Redis) -> bool:
    """Whether the sweep has made a whole pass since this process missed more writes than it
    kept (two passes from its first contact after them: one may have begun before)."""
    passes = int(redis.get(keys().passes) or 0)
    if _health.awaited_pass == -1:
        _health.awaited_pass = passes + 2
    if passes < (_health.awaited_pass or 0):
        return False
    _health.awaited_pass = None
    return True


def ask(redis: Redis, wanted: Need) -> None:
    """Ask for ``wanted``, at most once a window (10 s for a sweep, 60 s for a rebuild) across
    every process. A rebuild under way is not asked for again."""
    index = keys()
    if wanted is Need.REBUILD and redis.exists(index.filling, index.building):
        return
    window = 10 if wanted is Need.SWEEP else 60
    if not redis.set(index.requested(wanted.value), "1", nx=True, ex=window):
        return
    try:
        index_needs.send(sender=Need, need=wanted)
    except Exception:  # a broker hiccup must not fail the read that noticed
        # The request stays marked as made: while the broker does not answer, one read per
        # window waits for it, not every read. Beat's sweep does the work once it is back.
        logger.exception("Could not ask for a %s of the ranking index.", wanted.value)


@receiver(setting_changed)
def _reset_on_settings_change(*, setting: str, **kwargs: Any) -> None:
    if setting in {"CACHES", "LEADERBOARD_INDEX_PREFIX"}:
        _health.retry_at, _health.redis = 0.0, None
    if setting in {"LEADERBOARD_INDEX_PREFIX", "DATABASES"}:
        _health.token = _health.index = None


def forget() -> None:
    """Forget what this process knows (tests start each from a fresh database and index)."""
    _health.retry_at, _health.token, _health.awaited_pass = 0.0, None, None
    _health.index = _health.redis = None
    _health.missed.clear()
