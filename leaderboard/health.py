"""Probes for load balancers and orchestrators."""

from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse

from users import ranking


def healthz(request: HttpRequest) -> JsonResponse:
    """Alive while the process serves."""
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> JsonResponse:
    """Ready while the database answers and is migrated. Redis is reported but not required:
    without it the service still serves, from the database, so an outage must not empty the
    load balancer. The index's state comes with the rows it has yet to confirm and the oldest
    one's age."""
    try:
        connection.ensure_connection()
    except DatabaseError:
        return JsonResponse({"database": "unavailable"}, status=503)
    if pending := migrations_pending():
        return JsonResponse(
            {"database": "ok", "migrations": "pending", "reason": pending}, status=503
        )
    try:
        index = ranking.status()  # which index is the database's own: a query
    except DatabaseError:
        return JsonResponse({"database": "unavailable"}, status=503)
    return JsonResponse({"database": "ok", **index})


_migrated = False  # Once migrated, a process stays so: the probe then skips the plan.


def migrations_pending() -> str:
    """A plain reason while migrations are pending, else "". Reading the migration files
    costs some milliseconds, so it stops once the database is migrated."""
    global _migrated
    if _migrated:
        return ""
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError:
        return "The migration history cannot be read."
    if plan:
        return f"{len(plan)} migrations are pending: run `manage.py migrate`."
    _migrated = True
    return ""
