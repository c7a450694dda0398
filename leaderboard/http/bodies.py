"""What a client may send: the URL's length, the body's size and the time it takes, and how
the JSON body is read.

- A URL over ``MAX_URL_BYTES`` is a 414, in JSON.
- A body over ``MAX_BODY_BYTES`` is a 413 before any of it is read when its Content-Length
  says so, or as soon as the bytes read pass it.
- A chunked body (``Transfer-Encoding: chunked``, no Content-Length) is read here, within
  the same limit, so that everything after sees it like any other body: Django alone takes a
  body without a Content-Length as empty. A server that does not decode chunks for the
  application gets a 411 instead, before anything changes.
- The whole body must arrive within ``BODY_DEADLINE_SECONDS`` of the headers' end, not per
  read (``leaderboard.gunicorn_worker`` keeps the deadline); past it a read fails and the
  answer is a 408.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import orjson
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework import exceptions, parsers, status
from rest_framework.request import Request

from .limits import MAX_BODY_BYTES, MAX_URL_BYTES

TOO_LARGE = f"The request body is larger than {MAX_BODY_BYTES // 1024} KB."
TOO_SLOW = "The request body did not arrive in time. Send it again."
URL_TOO_LONG = f"The URL is longer than {MAX_URL_BYTES:,} bytes."
LENGTH_REQUIRED = "Send the body with a Content-Length header."


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = TOO_LARGE
    default_code = "too_large"


class RequestTimeout(exceptions.APIException):
    status_code = status.HTTP_408_REQUEST_TIMEOUT
    default_detail = TOO_SLOW
    default_code = "timeout"


class RequestLimits:
    """The middleware, first in the stack: nothing else runs for a request it refuses."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if len(request.get_full_path()) > MAX_URL_BYTES:
            return JsonResponse({"detail": URL_TOO_LONG}, status=414)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY_BYTES:
            return JsonResponse({"detail": TOO_LARGE}, status=413)
        if "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower() and not length:
            refused = _read_chunked(request)
            if refused is not None:
                return refused
        return self.get_response(request)


def _read_chunked(request: HttpRequest) -> HttpResponse | None:
    """Read a chunked body whole (at most ``MAX_BODY_BYTES``) and hand it on as a body with
    a Content-Length; or the answer that refuses it."""
    if not request.META.get("wsgi.input_terminated"):
        # The server passes the chunks on undecoded (Django's runserver): reading them as
        # the body would be wrong, and taking the body as empty worse.
        return JsonResponse({"detail": LENGTH_REQUIRED}, status=411)
    try:
        body = request.META["wsgi.input"].read(MAX_BODY_BYTES + 1)
    except OSError:  # the deadline passed, or the client went away
        return JsonResponse({"detail": TOO_SLOW}, status=408)
    if len(body) > MAX_BODY_BYTES:
        return JsonResponse({"detail": TOO_LARGE}, status=413)
    request._stream = LimitedStream(io.BytesIO(body), len(body))  # type: ignore[assignment]
    request.META["CONTENT_LENGTH"] = str(len(body))
    return None


class JSONParser(parsers.JSONParser):
    """DRF's parser, reading at most ``MAX_BODY_BYTES`` (413 past that, before any parsing),
    with a 400 for JSON nested too deeply and a 408 for a body that does not arrive in time."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            raw = stream.read(MAX_BODY_BYTES + 1) if stream is not None else b""
        except OSError as exc:  # the body's deadline passed
            raise RequestTimeout from exc
        if len(raw) > MAX_BODY_BYTES:
            raise RequestTooLarge
        return parse_json(raw)


def parse_json(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise exceptions.ParseError(f"The body is not valid JSON: {exc}.") from exc
    except RecursionError as exc:
        raise exceptions.ParseError("The body's JSON is nested too deeply.") from exc


def raw_body(request: Request) -> bytes:
    """The request's body as bytes, within the same limits as the parser."""
    try:
        body: bytes = request.body
    except OSError as exc:  # UnreadablePostError: the deadline passed
        raise RequestTimeout from exc
    if len(body) > MAX_BODY_BYTES:
        raise RequestTooLarge
    return body
