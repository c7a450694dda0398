"""Migration operations for what only PostgreSQL has (triggers, trigram indexes, planner
statistics): SQLite scans instead, and MongoDB has migrations of its own."""

from collections.abc import Callable
from typing import Any

from django.db import migrations


def on_postgresql(forward: str, backward: str) -> migrations.RunPython:
    """An operation that runs the SQL ``forward`` (``backward`` to reverse it) on PostgreSQL
    and does nothing elsewhere."""
    return migrations.RunPython(_run(forward), _run(backward))


def _run(sql: str) -> Callable[[Any, Any], None]:
    def run(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run
