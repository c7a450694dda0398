"""A bound on how long one database read may take.

The database answers the reads the ranking index cannot (Redis away, or an index being
built). Some of those are O(N) (a count of the whole board, the GROUP BY of the grouped
view), so each runs under a time limit: a request gets a 503 to retry rather than holding a
worker, and the web server, for the length of a table scan.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import OperationalError, connection, transaction


class QueryTimedOut(Exception):
    """A read took longer than its limit and was cancelled."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Cancel any query that runs for longer than ``seconds`` inside the block."""
    if connection.vendor == "postgresql":
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL statement_timeout = %s", [int(seconds * 1000)])
                yield
        except OperationalError as exc:
            if getattr(exc.__cause__, "sqlstate", None) == "57014":  # query_canceled
                raise QueryTimedOut from exc
            raise
    elif connection.vendor == "sqlite":
        connection.ensure_connection()
        raw = connection.connection
        deadline = time.monotonic() + seconds
        # SQLite calls this every 10,000 virtual machine instructions; non-zero aborts.
        raw.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
        try:
            yield
        except OperationalError as exc:
            if "interrupted" in str(exc):
                raise QueryTimedOut from exc
            raise
        finally:
            raw.set_progress_handler(None, 0)
    else:  # MongoDB: pymongo's client-side timeout, which also sends maxTimeMS
        import pymongo

        try:
            with pymongo.timeout(seconds):
                yield
        except Exception as exc:
            # The backend raises pymongo's error as it is, or as a DatabaseError's cause.
            if any(
                isinstance(e, pymongo.errors.PyMongoError) and e.timeout
                for e in (exc, exc.__cause__)
            ):
                raise QueryTimedOut from exc
            raise
