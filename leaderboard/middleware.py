"""Middleware of the project's own."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified

# How many distinct anonymous answers each process keeps.
_ENTRIES = 1_000


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
        if not self._anonymous_read(request):
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

    @staticmethod
    def _anonymous_read(request: HttpRequest) -> bool:
        return (
            request.method == "GET"
            and "HTTP_AUTHORIZATION" not in request.META
            and settings.SESSION_COOKIE_NAME not in request.COOKIES
        )

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
