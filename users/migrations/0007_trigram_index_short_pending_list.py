"""A short pending list for the name search's trigram index (PostgreSQL).

GIN puts new entries in a pending list and merges them later; every search scans the whole
list until then. With the default limit (4 MB) a search that sorts its matches spent 9 ms in a
list left by seeding, against 0.7 ms after the merge. At 256 kB the list stays short: names
change far less often than people search them.
"""

from django.db import migrations

INDEX = "users_user_name_trgm_idx"


def shorten(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER INDEX {INDEX} SET (gin_pending_list_limit = 256)")


def restore(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER INDEX {INDEX} RESET (gin_pending_list_limit)")


class Migration(migrations.Migration):
    dependencies = [("users", "0006_name_fragment_counts")]

    operations = [migrations.RunPython(shorten, restore)]
