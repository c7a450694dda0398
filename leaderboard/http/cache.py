"""Middleware of the project's own."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified, JsonResponse

from .api import MAX_BODY_BYTES
from .throttling import AnonymousReadThrottle as _Throttle

# How many distinct anonymous answers each process keeps.
_ENTRIES = 1_000


def _anonymous_read(request: HttpRequest) -> bool:
    return (
        request.method == "GET"
        and "HTTP_AUTHORIZATION" not in request.META
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
    )


class RequestLimits:
    """What a client may send: an API body over ``MAX_BODY_BYTES`` is refused with a 413
    before any of it is read, and a body that stalls for ``REQUEST_BODY_TIMEOUT_SECONDS``
    gives up the socket (the parser answers 408), rather than holding a worker's thread
    until gunicorn's own timeout and answering 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > MAX_BODY_BYTES:
                return JsonResponse(
                    {"detail": f"The request body is larger than {MAX_BODY_BYTES // 1024} KB."},
                    status=413,
                )
        sock = request.META.get("gunicorn.socket")
        if sock is not None:
            sock.settimeout(settings.REQUEST_BODY_TIMEOUT_SECONDS)
        return self.get_response(request)


class AnonymousReadThrottle:
    """Anonymous reads of the API, per client address (``THROTTLE_ANON``), counted before
    the answers kept for a second, which would otherwise never reach DRF's throttles."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/") and _anonymous_read(request):
            throttle = _Throttle()
            if not throttle.allow_request(request, None):
                wait = max(1, round(throttle.wait() or 1))
                response = JsonResponse(
                    {"detail": f"Too many requests. Try again in {wait} seconds."}, status=429
                )
                response["Retry-After"] = str(wait)
                return response
        return self.get_response(request)


@dataclass(frozen=True)
class _Kept:
    expires: float
    content: bytes
    content_type: str
    cache_control: str
    etag: str


class AnonymousReadCache:
    """Anonymous reads that a view marks ``Cache-Control: public, max-age=N`` (the board) are
    answered from this process's copy for N seconds, before the rest of the stack runs.

    A burst of identical reads (every screen polling the top of the board) then costs one
    computation a second in each process. Each answer carries an ETag, so a client or a CDN
    that sends it back in If-None-Match gets a 304. Anything else (a signed-in staff member,
    a token, another method, an answer that is not a public 200) passes straight through.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._kept: OrderedDict[tuple[str, str], _Kept] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not _anonymous_read(request):
            return self.get_response(request)
        key = (request.META.get("HTTP_HOST", ""), request.get_full_path())
        with self._lock:
            kept = self._kept.get(key)
        if kept is None or kept.expires < time.monotonic():
            response = self.get_response(request)
            kept = self._keep(key, response)
            if kept is None:
                return response
        if request.META.get("HTTP_IF_NONE_MATCH") == kept.etag:
            answer: HttpResponse = HttpResponseNotModified()
        else:
            answer = HttpResponse(kept.content, content_type=kept.content_type)
        answer["ETag"] = kept.etag
        answer["Cache-Control"] = kept.cache_control
        return answer

    def _keep(self, key: tuple[str, str], response: HttpResponse) -> _Kept | None:
        cache_control = response.get("Cache-Control", "")
        if response.status_code != 200 or response.streaming or "public" not in cache_control:
            return None
        seconds = int(cache_control.rpartition("max-age=")[2] or 0)
        content = response.content
        kept = _Kept(
            expires=time.monotonic() + seconds,
            content=content,
            content_type=response["Content-Type"],
            cache_control=cache_control,
            etag=f'"{hashlib.md5(content, usedforsecurity=False).hexdigest()}"',
        )
        with self._lock:
            self._kept[key] = kept
            self._kept.move_to_end(key)
            while len(self._kept) > _ENTRIES:
                self._kept.popitem(last=False)
        return kept
