"""A trigram index for searching names on PostgreSQL (``?search=``).

Django's ``icontains`` compiles to ``UPPER(name) LIKE UPPER(%s)`` there, so the index is on
``UPPER(name)`` with ``gin_trgm_ops``, over live users like the query. It is created only on
PostgreSQL: SQLite scans (it is the embedded default, not the scale), and MongoDB has its own
migrations. The index is not declared in the model's Meta, so other backends never see it.
"""

from django.db import migrations

INDEX = "users_user_name_trgm_idx"


def create(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON users_user "
        "USING gin (UPPER(name) gin_trgm_ops) WHERE NOT deleted"
    )


def drop(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("users", "0003_schedule_index_upkeep")]

    operations = [migrations.RunPython(create, drop)]
