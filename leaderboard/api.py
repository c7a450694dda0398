"""HTTP plumbing shared by every API: parsing, pagination and error shapes."""

from __future__ import annotations

from typing import Any

from django.db import InterfaceError, OperationalError
from rest_framework import exceptions, pagination, parsers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class JSONParser(parsers.JSONParser):
    """DRF's parser, plus a 400 for JSON nested too deeply for Python's decoder."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from exc


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    """`limit` (default 50, at most 500) and `offset`, as the contract says.

    DRF falls back to the default when `limit` or `offset` is not a whole number; an offset
    past the end answers an empty page.
    """

    default_limit = 50
    max_limit = 500


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The database is not answering. Try again shortly."
    default_code = "service_unavailable"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler; a lost database connection is a 503 to retry, not a 500."""
    if isinstance(exc, OperationalError | InterfaceError):
        exc = ServiceUnavailable()
    return drf_exception_handler(exc, context)
