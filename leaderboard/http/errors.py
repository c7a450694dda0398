"""How the API answers errors that are not the client's fault: a 503 to retry, not a 500.

(A module of its own: DRF's views import the renderer in ``leaderboard.api`` and the parser
in ``leaderboard.http.bodies`` from settings, so those modules must not import DRF's views.)
"""

from __future__ import annotations

from typing import Any

from django.db import InterfaceError, OperationalError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from ..api import Degraded, ServiceUnavailable
from ..timelimit import QueryTimedOut
from ..transactions import is_transient


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler; a lost database connection, a fallback read past its time limit, or a
    MongoDB transaction that concurrent writes kept aborting, is a 503 to retry, not a 500."""
    if isinstance(exc, QueryTimedOut):
        exc = Degraded()
    elif (
        isinstance(exc, OperationalError | InterfaceError)
        or _is_database_down(exc)
        or is_transient(exc)  # still aborted by concurrent writes after the retries
    ):
        exc = ServiceUnavailable()
    response = drf_exception_handler(exc, context)
    if response is not None and response.status_code == status.HTTP_503_SERVICE_UNAVAILABLE:
        response["Retry-After"] = "5"
    return response


def _is_database_down(exc: Exception) -> bool:
    """pymongo's errors are not Django's DatabaseError (MongoDB mode)."""
    return type(exc).__module__.startswith("pymongo.errors")
