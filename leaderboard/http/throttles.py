"""Request rates: anonymous reads per client address, writes per account.

Rates come from ``THROTTLE_ANON`` and ``THROTTLE_WRITES`` in DRF's format ("600/minute"),
and "off" turns one off. A client over its rate gets a 429 with ``Retry-After``.

Requests are counted over a sliding window in Redis, shared by every process (see
``WindowCounter``). Each process counts locally and adds its count to Redis every
``SYNC_EVERY`` requests, at each new bucket, and at every request once a client nears its
limit: a burst from one client then costs one Redis round trip in ten, and a client can
exceed its rate by at most the requests each process has not yet reported. When Redis does
not answer, requests are let through: the limits protect the service, they are not what it
serves.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django_redis import get_redis_connection
from redis.exceptions import RedisError
from rest_framework import exceptions, throttling

from . import identity

logger = logging.getLogger(__name__)

SYNC_EVERY = 10
# A window is counted in this many buckets (a tenth of a minute each, at a rate per minute).
BUCKETS = 10


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
    """Requests per key over a sliding window, counted in this process and summed in Redis.

    A window of ``duration`` seconds is counted in ``BUCKETS`` buckets. A request is let in
    only if the requests let in over the last ``BUCKETS`` buckets and the current one (a span
    a little longer than ``duration``) stay within the limit, so the limit holds over any
    ``duration`` seconds, across a minute's boundary too, never "per calendar minute".
    Refused requests are not counted: a client that keeps asking gets in again as its
    older requests leave the window.
    """

    def __init__(self) -> None:
        # key -> [bucket of the last report, not yet reported, window's total at that report]
        self._counts: dict[str, list[int]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, limit: int, duration: int) -> float | None:
        """Count one request; the seconds to wait if it is over ``limit``, else None."""
        now = time.time()
        width = duration / BUCKETS
        bucket = int(now // width)
        with self._lock:
            count = self._counts.get(key)
            if count is None:
                if len(self._counts) > 100_000:
                    self._counts.clear()
                count = self._counts[key] = [bucket, 0, 0]
            last, unreported, reported = count
        totals = None
        # Report at a new bucket (the window moved: the total known may have dropped), every
        # SYNC_EVERY requests, and at every request once the client nears its limit.
        if last != bucket or unreported + 1 >= SYNC_EVERY or reported + unreported >= limit * 0.8:
            totals = self._report(key, bucket, last, unreported, width)
            if totals is None:  # Redis is away: let it through
                return None
            with self._lock:
                count[0] = bucket
                count[1] -= unreported
                count[2] = sum(totals)
        with self._lock:
            if count[2] + count[1] + 1 <= limit:
                count[1] += 1
                return None
            over = count[2] + count[1] + 1 - limit
        if totals is None:
            return width
        # The oldest buckets leave the window one by one, at each bucket's end.
        for waited, requests in enumerate(totals, start=1):
            over -= requests
            if over <= 0:
                return (bucket + waited) * width - now
        return duration

    @staticmethod
    def _report(key: str, bucket: int, last: int, requests: int, width: float) -> list[int] | None:
        """Add ``requests`` to bucket ``last`` (where they were let in: a new bucket always
        reports first); the counts of the buckets of ``bucket``'s window, oldest first."""
        keys = [f"throttle:{key}:{b}" for b in range(bucket - BUCKETS, bucket + 1)]
        try:
            pipe = get_redis_connection("default").pipeline(transaction=False)
            if requests and last >= bucket - BUCKETS:
                pipe.incrby(f"throttle:{key}:{last}", requests)
                pipe.expire(f"throttle:{key}:{last}", int(width * (BUCKETS + 2)) + 1)
            pipe.mget(keys)
            *_, counts = pipe.execute()
        except RedisError as exc:
            logger.warning("Redis did not answer (%s); requests are not throttled meanwhile.", exc)
            return None
        return [int(c or 0) for c in counts]


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
    """Anonymous reads of the API, per client address (``anonymous_reads`` applies it, before
    the answers kept for a second)."""

    scope = "anon"
    setting = "THROTTLE_ANON"

    def get_cache_key(self, request: HttpRequest, view: Any) -> str:
        return f"anon:{client_address(request)}"


class WriteThrottle(RateThrottle):
    """Writes, per account (a token's, or a signed-in staff member's)."""

    scope = "writes"
    setting = "THROTTLE_WRITES"

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        if request.method in SAFE_METHODS or (who := identity.account(request)) is None:
            return None
        return f"writes:{who.pk}"


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def anonymous_reads(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[..., Any]:
    """Middleware: anonymous reads of the API are counted per client address
    (``THROTTLE_ANON``) before the answers kept for a second, which would otherwise never
    reach DRF's throttles. Who is anonymous is ``identity``'s one answer: a made-up
    ``Authorization`` header or session cookie counts here like no header at all, and a
    made-up token is a 401 (once the address is within its rate)."""

    def middleware(request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/api/") or request.method not in SAFE_METHODS:
            return get_response(request)
        refused = None
        try:
            anonymous = identity.is_anonymous(request)
        except exceptions.AuthenticationFailed as exc:
            anonymous, refused = True, exc
        if anonymous:
            throttle = AnonymousReadThrottle()
            if not throttle.allow_request(request, None):
                return too_many_requests(throttle.wait())
        if refused is not None:
            response = JsonResponse({"detail": str(refused.detail)}, status=refused.status_code)
            response["WWW-Authenticate"] = "Token"
            return response
        return get_response(request)

    return middleware


def too_many_requests(wait: float | None) -> JsonResponse:
    seconds = max(1, round(wait or 1))
    response = JsonResponse(
        {"detail": f"Too many requests. Try again in {seconds} seconds."}, status=429
    )
    response["Retry-After"] = str(seconds)
    return response
