"""Django's PostgreSQL backend, with a health check that costs no round trip, and prepared
statements for the few that the hot paths write by hand.

**The health check.** With ``CONN_HEALTH_CHECKS`` Django checks a kept connection before each
request's first query with a ``SELECT 1``: a round trip on every request, as long as the query
itself on a single-row read or write. A connection that sits idle between requests has nothing
to read unless the server has closed it, is closing it (it sends a FATAL error first, at a
restart, an ``idle_session_timeout`` or a ``pg_terminate_backend``) or has a notice for it. So
the socket is polled, which answers at once; only when something has arrived is the server
asked, as Django asks it.

**Prepared statements.** Django binds parameters on the client, so PostgreSQL parses and plans
each statement every time. ``prepared_cursor()`` binds them on the server instead, and psycopg
prepares a statement once it has run ``prepare_threshold`` times on a connection (the settings
set it): the points change and the profiles of a page are then planned once per connection.
Django's own queries keep client-side binding, which never prepares.
"""

from __future__ import annotations

import select
from typing import Any

from django.db.backends.postgresql import base
from psycopg.pq import Format


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        if self.connection is None or self.connection.closed:
            return False
        try:
            arrived, _, _ = select.select([self.connection.fileno()], [], [], 0)
        except (OSError, ValueError):  # the socket is gone
            return False
        return not arrived or super().is_usable()

    def prepared_cursor(self) -> Any:
        """A cursor like ``cursor()`` whose statements are bound on the server, and prepared
        from their ``prepare_threshold``-th run on this connection. Made as Django's
        ``_cursor()`` and ``create_cursor()`` make theirs, from Django's server-binding cursor
        class (names django-stubs does not declare)."""
        self.close_if_health_check_failed()
        self.ensure_connection()
        with self.wrap_database_errors:
            cursor = base.ServerBindingCursor(self.connection)  # type: ignore[attr-defined]
            timestamps = base.TIMESTAMPTZ_OID  # type: ignore[attr-defined]
            loader = self.connection.adapters.get_loader(timestamps, Format.TEXT)
            if self.timezone != loader.timezone:
                base.register_tzloader(self.timezone, cursor)  # type: ignore[attr-defined]
            return self._prepare_cursor(cursor)  # type: ignore[attr-defined]
