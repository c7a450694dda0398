"""Request rates: anonymous reads per client address, writes per account.

Rates come from ``THROTTLE_ANON`` and ``THROTTLE_WRITES`` in DRF's format ("600/minute"),
and "off" turns one off. A client over its rate gets a 429 with ``Retry-After``.

Requests are counted in fixed windows in Redis, shared by every process. Each process counts
locally and adds its count to Redis every ``SYNC_EVERY`` requests, and at every request once
a client nears its limit: a burst from one client then costs one Redis round trip in ten, and
a client can exceed its rate by at most the requests each process has not yet reported. When
Redis does not answer, requests are let through: the limits protect the service, they are
not what it serves.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django_redis import get_redis_connection
from redis.exceptions import RedisError
from rest_framework import throttling

logger = logging.getLogger(__name__)

SYNC_EVERY = 10


def client_address(request: Any) -> str:
    """The client's address: the connection's peer, or, behind ``NUM_PROXIES`` proxies, the
    address the outermost of them saw (X-Forwarded-For, read from the right)."""
    meta = request.META
    proxies = settings.NUM_PROXIES
    forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        addresses = [address.strip() for address in forwarded.split(",")]
        return addresses[-min(proxies, len(addresses))]
    return str(meta.get("REMOTE_ADDR", ""))


class WindowCounter:
    """Requests per key in fixed windows, counted in this process and summed in Redis."""

    def __init__(self) -> None:
        # key -> [window, not yet reported, total Redis had at the last report]
        self._counts: dict[str, list[int]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, limit: int, duration: int) -> float | None:
        """Count one request; the seconds to wait if it is over ``limit``, else None."""
        now = time.time()
        window = int(now // duration)
        with self._lock:
            count = self._counts.get(key)
            if count is None or count[0] != window:
                if len(self._counts) > 100_000:
                    self._counts.clear()
                count = self._counts[key] = [window, 0, 0]
            count[1] += 1
            unreported, reported = count[1], count[2]
        if unreported >= SYNC_EVERY or reported + unreported >= limit * 0.8:
            total = self._report(f"throttle:{key}:{window}", unreported, duration)
            if total is None:  # Redis is away: let it through
                return None
            with self._lock:
                count[1] -= unreported
                count[2] = reported = total
        if reported + count[1] > limit:
            return (window + 1) * duration - now
        return None

    @staticmethod
    def _report(key: str, requests: int, duration: int) -> int | None:
        try:
            pipe = get_redis_connection("default").pipeline(transaction=False)
            pipe.incrby(key, requests)
            pipe.expire(key, duration * 2)
            total, _ = pipe.execute()
        except RedisError as exc:
            logger.warning("Redis did not answer (%s); requests are not throttled meanwhile.", exc)
            return None
        return int(total)


_counter = WindowCounter()


class RateThrottle(throttling.SimpleRateThrottle):
    """DRF's throttle, counted by ``WindowCounter`` rather than a list of timestamps per
    client kept in the cache (which costs a read and a write of the whole list per request)."""

    setting = ""
    num_requests: int
    duration: int

    def get_rate(self) -> str | None:
        rate: str = getattr(settings, self.setting)
        return None if rate.strip().lower() in {"", "off"} else rate

    def allow_request(self, request: Any, view: Any) -> bool:
        if self.rate is None or (key := self.get_cache_key(request, view)) is None:
            return True
        self.waiting = _counter.hit(key, self.num_requests, self.duration)
        return self.waiting is None

    def wait(self) -> float | None:
        return self.waiting


class AnonymousReadThrottle(RateThrottle):
    """Anonymous reads of the API, per client address (``leaderboard.middleware`` applies it,
    before the answers kept for a second)."""

    scope = "anon"
    setting = "THROTTLE_ANON"

    def get_cache_key(self, request: HttpRequest, view: Any) -> str:
        return f"anon:{client_address(request)}"


class WriteThrottle(RateThrottle):
    """Writes, per account (a token's, or a signed-in staff member's)."""

    scope = "writes"
    setting = "THROTTLE_WRITES"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        if request.method in {"GET", "HEAD", "OPTIONS"} or not request.user.is_authenticated:
            return None
        return f"writes:{request.user.pk}"
