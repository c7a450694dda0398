"""Answers kept and compressed: the one-second shared copy of anonymous reads, and gzip for
JSON."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.http.response import HttpResponseBase
from django.middleware.gzip import GZipMiddleware
from rest_framework import exceptions

from . import identity
from .limits import GZIP_MIN_BYTES

# How many distinct anonymous answers each process keeps.
_ENTRIES = 1_000


def _anonymous_read(request: HttpRequest) -> bool:
    if request.method != "GET":
        return False
    try:
        return identity.is_anonymous(request)
    except exceptions.AuthenticationFailed:  # a 401 (throttles.anonymous_reads answers it)
        return False


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
    that sends it back in If-None-Match gets a 304. Anything else (a valid token or session,
    as ``identity`` decides, another method, an answer that is not a public 200) passes
    straight through.
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
        # gzip (JsonGZip, outside this) sends the ETag back weak: W/"...".
        if request.META.get("HTTP_IF_NONE_MATCH", "").removeprefix("W/") == kept.etag:
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


class JsonGZip(GZipMiddleware):
    """Django's gzip, for JSON answers of ``GZIP_MIN_BYTES`` or more only. The API's answers
    are public data, so BREACH (which needs a secret in a compressed page beside the
    attacker's text) does not apply; HTML pages, which carry CSRF tokens, stay uncompressed.
    """

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if not response.get("Content-Type", "").startswith("application/json"):
            return response
        if isinstance(response, HttpResponse) and len(response.content) < GZIP_MIN_BYTES:
            return response
        return super().process_response(request, response)
