"""Database plumbing: the PostgreSQL backend (``postgresql/``) and the cursor of the hot paths'
own statements."""

from typing import Any

from django.db import connection


def prepared_cursor() -> Any:
    """A cursor for a statement the hot paths run over and over: prepared once per connection
    on PostgreSQL (``leaderboard.db.postgresql``), an ordinary cursor elsewhere."""
    prepared = getattr(connection, "prepared_cursor", None)
    return connection.cursor() if prepared is None else prepared()
