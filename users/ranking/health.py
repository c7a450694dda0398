"""Reaching Redis, and what happens when it does not answer.

Reads that cannot use the index return None and the caller asks the database. Writes that
cannot reach it are not lost: the row's ``updated_at`` is after the index's watermark, so the
next repair applies it (see ``repair.py``). This process also remembers when it first missed
one. At its next contact with Redis it counts the miss (a rebuild that began earlier then does
not claim to be ready) and asks for a repair at once rather than at the next scheduled one;
and until the index's watermark passes that moment, its own reads go to the database, so that
it always sees its own writes. Other processes keep using the index meanwhile.

What to do about a missing or doubtful index is not decided here: the app registers a
callback (``on_request``), which queues the Celery task, so that this package needs no import
of the tasks that import it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Literal, TypeVar

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django_redis import get_redis_connection
from redis import Redis
from redis.exceptions import RedisError

from .keys import Keys

logger = logging.getLogger(__name__)

T = TypeVar("T")

Request = Literal["repair", "rebuild"]


class _Health:
    """This process's view of Redis: when to try it again after it failed to answer, and
    when the index first missed one of this process's writes (epoch ms) and whether that
    was reported yet."""

    retry_at = 0.0
    missed_at: int | None = None
    reported = True
    requester: Callable[[Request], object] | None = None


_health = _Health()


def keys() -> Keys:
    return Keys(settings.LEADERBOARD_INDEX_PREFIX)


def client() -> Redis:
    return get_redis_connection("default")


def on_request(requester: Callable[[Request], object]) -> None:
    """Register what queues a repair or a rebuild (the app's Celery tasks)."""
    _health.requester = requester


def call(operation: Callable[[Redis], T], *, is_write: bool = False) -> T | None:
    """Run one operation against Redis; None when Redis is away (and we note it)."""
    if time.monotonic() < _health.retry_at:
        if is_write:
            _missed()
        return None
    try:
        redis = client()
        if not _health.reported:
            _report_miss(redis)
        return operation(redis)
    except RedisError as exc:
        logger.warning("Redis did not answer (%s); serving from the database.", exc)
        _health.retry_at = time.monotonic() + settings.LEADERBOARD_REDIS_RETRY_SECONDS
        if is_write:
            _missed()
        return None


def _missed() -> None:
    _health.missed_at = _health.missed_at or now_ms()
    _health.reported = False


def _report_miss(redis: Redis) -> None:
    redis.incr(keys().misses)
    _health.reported = True
    logger.warning("The ranking index missed writes while Redis was away; repairing it.")
    request(redis, "repair")


def request(redis: Redis, kind: Request) -> None:
    """Ask for one repair or rebuild (at most one request of each kind every few seconds,
    across every process)."""
    if _health.requester is None:
        return
    if not redis.set(keys().requested(kind), "1", nx=True, ex=10 if kind == "repair" else 60):
        return
    try:
        _health.requester(kind)
    except Exception:  # a broker hiccup must not fail the read that noticed
        # The request stays marked as made: while the broker does not answer, one read per
        # window waits for it, not every read. Beat's repair, every 10 seconds, repairs or
        # rebuilds the index anyway once the broker is back.
        logger.exception("Could not queue a %s of the ranking index.", kind)


def usable(redis: Redis, status: int, watermark: int) -> bool:
    """Whether a read may use the index, given what a script found; asks for what is
    missing otherwise."""
    if status == 0:
        if not redis.exists(keys().building):
            request(redis, "rebuild")
        return False
    if _health.missed_at is not None:
        if watermark < _health.missed_at:  # not repaired since this process missed a write
            request(redis, "repair")
            return False
        _health.missed_at = None
    # An index not repaired for a while may hold a miss nobody has repaired: whatever a write
    # missed is repaired within this bound, or reads stop trusting the index.
    lag_ms = time.time() * 1000 - watermark
    if status == 1 or lag_ms > settings.LEADERBOARD_INDEX_MAX_LAG_SECONDS * 1000:
        request(redis, "repair")
        return False
    return True


def margin_ms() -> int:
    """How far before a watermark a repair starts reading (see ``repair.py``)."""
    return int(settings.LEADERBOARD_REPAIR_MARGIN_SECONDS * 1000)


def now_ms() -> int:
    return int(time.time() * 1000)


@receiver(setting_changed)
def _reset_on_settings_change(*, setting: str, **kwargs: Any) -> None:
    if setting in {"CACHES", "LEADERBOARD_INDEX_PREFIX"}:
        _health.retry_at = 0.0


def forget() -> None:
    """Forget this process's misses (tests start each from a fresh index)."""
    _health.retry_at, _health.missed_at, _health.reported = 0.0, None, True
