"""Database plumbing: the PostgreSQL backend (``postgresql/``), the cursor of the hot paths'
own statements, and planner settings for one transaction."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection, transaction


def prepared_cursor() -> Any:
    """A cursor for a statement the hot paths run over and over: prepared once per connection
    on PostgreSQL (``leaderboard.db.postgresql``), an ordinary cursor elsewhere."""
    prepared = getattr(connection, "prepared_cursor", None)
    return connection.cursor() if prepared is None else prepared()


@contextmanager
def planned(**settings: str) -> Iterator[None]:
    """Inside the block PostgreSQL plans with ``settings``: set in one round trip, for a
    transaction of the block's own or for the one around it. Elsewhere nothing."""
    if connection.vendor != "postgresql":
        yield
        return
    calls = ", ".join(["set_config(%s, %s, true)"] * len(settings))  # true: this transaction
    with transaction.atomic(savepoint=False):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {calls}", [part for item in settings.items() for part in item])
        yield
