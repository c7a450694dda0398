"""A trigram index for searching names on PostgreSQL (``?search=``).

Django's ``icontains`` compiles to ``UPPER(name) LIKE UPPER(%s)`` there, so the index is on
``UPPER(name)`` with ``gin_trgm_ops``, over live users like the query. It is created only on
PostgreSQL: SQLite scans (it is the embedded default, not the scale), and MongoDB has its own
migrations. The index is not declared in the model's Meta, so other backends never see it.
"""

from django.db import migrations

from leaderboard.db.migrations import on_postgresql

INDEX = "users_user_name_trgm_idx"

CREATE = f"""
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX IF NOT EXISTS {INDEX} ON users_user
    USING gin (UPPER(name) gin_trgm_ops) WHERE NOT deleted;
"""
DROP = f"DROP INDEX IF EXISTS {INDEX}"


class Migration(migrations.Migration):
    dependencies = [("users", "0003_schedule_index_upkeep")]

    operations = [on_postgresql(CREATE, DROP)]
