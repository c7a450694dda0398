"""Database plumbing: the PostgreSQL backend (``postgresql/``), the cursor of the hot paths'
own statements, and planner settings for one transaction."""

from typing import Any

from django.db import connection


def prepared_cursor() -> Any:
    """A cursor for a statement the hot paths run over and over: prepared once per connection
    on PostgreSQL (``leaderboard.db.postgresql``), an ordinary cursor elsewhere."""
    prepared = getattr(connection, "prepared_cursor", None)
    return connection.cursor() if prepared is None else prepared()


def planned(**settings: str) -> None:
    """Set PostgreSQL's planner ``settings`` for the rest of the current transaction, in one
    round trip; elsewhere nothing."""
    if connection.vendor != "postgresql":
        return
    calls = ", ".join(["set_config(%s, %s, true)"] * len(settings))  # true: this transaction
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {calls}", [part for item in settings.items() for part in item])
