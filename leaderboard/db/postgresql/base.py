"""Django's PostgreSQL backend, with a health check that costs no round trip.

With ``CONN_HEALTH_CHECKS`` Django checks a kept connection before each request's first
query with a ``SELECT 1``: a round trip on every request, as long as the query itself on a
single-row read or write. A connection that sits idle between requests has nothing to read
unless the server has closed it, is closing it (it sends a FATAL error first, at a restart, an
``idle_session_timeout`` or a ``pg_terminate_backend``) or has a notice for it. So the socket
is polled, which answers at once; only when something has arrived is the server asked, as
Django asks it.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        if self.connection is None or self.connection.closed:
            return False
        try:
            arrived, _, _ = select.select([self.connection.fileno()], [], [], 0)
        except (OSError, ValueError):  # the socket is gone
            return False
        return not arrived or super().is_usable()
