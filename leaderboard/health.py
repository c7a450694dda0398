"""Probes for load balancers and orchestrators."""

from typing import Any

from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse

from users import ranking


def healthz(request: HttpRequest) -> JsonResponse:
    """Alive while the process serves."""
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> JsonResponse:
    """Ready while the database answers. Redis is reported but not required: without it the
    service still serves, from the database, so an outage must not empty the load balancer.
    The index's state comes with the rows it has yet to confirm and the oldest one's age."""
    index: dict[str, Any] = {}
    try:
        connection.ensure_connection()
        database = "ok"
        index = ranking.status()
    except DatabaseError:
        database = "unavailable"
    return JsonResponse(
        {"database": database, **index},
        status=200 if database == "ok" else 503,
    )
