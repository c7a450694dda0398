"""Results too costly to compute for every request, shared briefly by every process."""

from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import RedisError

T = TypeVar("T")


def remember(key: str, seconds: float, compute: Callable[[], T]) -> T:
    """``compute()``, reused for ``seconds`` across all processes. When it expires, one
    process recomputes it while the others wait for that result instead of piling onto the
    database. Without Redis, every call computes."""
    if seconds <= 0:
        return compute()
    try:
        value: T | None = cache.get(key)
        if value is None:
            with cache.lock(f"{key}:lock", timeout=60, blocking_timeout=60):  # type: ignore[attr-defined]
                value = cache.get(key)
                if value is None:
                    value = compute()
                    cache.set(key, value, timeout=seconds)
        return value
    except (RedisError, ConnectionInterrupted):
        return compute()
