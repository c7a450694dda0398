"""HTTP plumbing shared by every API: parsing, rendering, pagination, ids and error shapes."""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import orjson
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import Resolver404, resolve
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, negotiation, pagination, renderers, serializers, status
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from .http.limits import DEFAULT_PAGE_SIZE, MAX_OFFSET, MAX_PAGE_SIZE


def _default(value: Any) -> Any:
    """What orjson cannot encode itself (lazy strings, Decimals) goes through DRF's encoder."""
    if isinstance(value, Decimal):
        return float(value)
    return JSONEncoder().default(value)


class JSONRenderer(renderers.JSONRenderer):
    """JSON through orjson, several times faster than the standard library on a page of 50."""

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Any = None,
    ) -> bytes:
        if data is None:
            return b""
        return orjson.dumps(data, default=_default)


class ContentNegotiation(negotiation.DefaultContentNegotiation):
    """DRF's negotiation, skipped for the clients that accept anything or JSON (nearly all):
    with one renderer their answer is known, and parsing the Accept header against it cost a
    twentieth of a read. Other Accept headers are negotiated as DRF does (a 406 where JSON is
    not accepted)."""

    def select_renderer(
        self,
        request: Any,
        renderers: Iterable[BaseRenderer],
        format_suffix: str | None = None,
    ) -> tuple[BaseRenderer, str]:
        offered = list(renderers)
        accept = request.META.get("HTTP_ACCEPT", "*/*")
        chosen = format_suffix
        if chosen is None and request.META.get("QUERY_STRING"):  # else no query to parse
            chosen = request.query_params.get(self.settings.URL_FORMAT_OVERRIDE)
        if len(offered) == 1 and chosen is None and accept in _ANY_OR_JSON:
            return offered[0], offered[0].media_type
        return super().select_renderer(request, offered, format_suffix)


_ANY_OR_JSON = frozenset({"", "*/*", "application/json"})


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    """`limit` (1-500, default 50) and `offset` (0 or more). Anything else is a 400 that
    says what is allowed: the schema states these bounds, and a client that asked for 1,000
    should not silently get 500."""

    default_limit = DEFAULT_PAGE_SIZE
    max_limit = MAX_PAGE_SIZE
    _link_start: str | None = None  # a page's links up to the offset (``_link``)

    def get_limit(self, request: Request) -> int:
        return _bounded(request, self.limit_query_param, self.default_limit, 1, self.max_limit)

    def get_offset(self, request: Request) -> int:
        return _bounded(request, self.offset_query_param, 0, 0, MAX_OFFSET)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        limit, offset = super().get_schema_operation_parameters(view)
        limit["schema"] |= {"minimum": 1, "maximum": self.max_limit, "default": self.default_limit}
        offset["schema"] |= {"minimum": 0, "maximum": MAX_OFFSET, "default": 0}
        return [limit, offset]

    def window(self, request: Request) -> tuple[int, int]:
        """Read `offset` and `limit` for a view that fetches its page itself."""
        self.request = request
        self.limit, self.offset = self.get_limit(request), self.get_offset(request)
        return self.offset, self.limit

    def page(self, request: Request, total: int, results: list[Any]) -> Response:
        self.count = total
        return self.get_paginated_response(results)

    # DRF rebuilds each link by parsing and re-encoding the whole URL twice; on a page of the
    # board that cost as much as reading the page.
    def get_next_link(self) -> str | None:
        offset, limit = self.offset or 0, self.limit or 0
        if offset + limit >= (self.count or 0):
            return None
        return self._link(offset + limit)

    def get_previous_link(self) -> str | None:
        offset, limit = self.offset or 0, self.limit or 0
        if offset <= 0:
            return None
        return self._link(max(0, offset - limit))

    def _link(self, offset: int) -> str:
        """The page's own URL with ``offset``; what comes before the offset is the same for
        both links, so it is built once."""
        assert self.request is not None
        if self._link_start is None:
            own = {self.limit_query_param, self.offset_query_param}
            query = [
                (name, value)
                for name, values in self.request.query_params.lists()
                if name not in own
                for value in values
            ]
            query.append((self.limit_query_param, str(self.limit)))
            path = f"{self.request.path}?{urlencode(query)}"
            self._link_start = self.request.build_absolute_uri(path)
        return (
            f"{self._link_start}&{self.offset_query_param}={offset}" if offset else self._link_start
        )


def _bounded(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    value = ascii_int(raw.strip())
    if value is None or not low <= value <= high:
        raise exceptions.ValidationError(
            {name: [f"{name} must be a whole number from {low:,} to {high:,}."]}
        )
    return value


def ascii_int(text: str) -> int | None:
    """``text`` as a whole number if it is ASCII digits only, else None. Python's ``int``
    also reads other scripts' digits (Arabic-Indic five is 5), which no client means as a number."""
    if not (text.isascii() and text.isdigit()) or len(text) > 30:
        return None
    return int(text)


class QueryInteger(serializers.IntegerField):
    """DRF's IntegerField for a query parameter, in ASCII digits only."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, str) and ascii_int(data.strip()) is None:
            self.fail("invalid")
        return super().to_internal_value(data)


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The database is not answering. Try again shortly."
    default_code = "service_unavailable"


class Degraded(ServiceUnavailable):
    default_detail = (
        "The ranking index is being rebuilt and the database could not answer this in time. "
        "Try again in a few seconds."
    )


def public_id(pk: Any) -> int | str:
    """An id as clients see it: an integer on SQL databases, the ObjectId's hex on MongoDB."""
    return pk if isinstance(pk, int) else str(pk)


IS_MONGODB: bool = settings.IS_MONGODB
# What an id in a path looks like: ASCII digits (or an ObjectId's hex), since Python's int()
# would also read Arabic-Indic "10" as 10. Anything else names no user: a 404.
ID_PATTERN = re.compile("[0-9a-f]{24}" if IS_MONGODB else "[0-9]{1,19}")


def is_id(text: str) -> bool:
    return ID_PATTERN.fullmatch(text) is not None


@extend_schema_field(OpenApiTypes.STR if IS_MONGODB else OpenApiTypes.INT)
class IdField(serializers.Field):
    """A read-only id: an integer on SQL databases, a string on MongoDB."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value: Any) -> int | str:
        return public_id(value)


@csrf_exempt  # it changes nothing; a CSRF failure would answer in HTML
def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any path under /api/ that names no endpoint: a JSON 404, like every API answer."""
    detail = "There is no such endpoint. The API is described at /api/docs/."
    if not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            pass
        else:
            if match.func is not not_found:
                detail = f"Every path ends with a slash: try {request.path}/."
    return JsonResponse({"detail": detail}, status=404)
