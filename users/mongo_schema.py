"""The users collection's `$jsonSchema` validator: the model's check constraints, on MongoDB.

MongoDB has no check constraints (Django says so as models.W027), so on MongoDB the server
holds the same invariants through a collection validator, applied by
mongo_migrations/users/0003_validator.py. The write services keep them too, with conditional
updates; the validator is what refuses a write that bypasses them (a script, the shell).
W027 is silenced in MongoDB mode (settings) and this module's check says instead whether the
validator is in place.
"""

from __future__ import annotations

from typing import Any

from django.core import checks

from .models import MAX_AGE, MAX_POINTS

MIGRATION = ("users", "0003_validator")


def validator() -> dict[str, Any]:
    """Points 0..MAX_POINTS and age 0..MAX_AGE, whole numbers, on every document."""
    whole = ["int", "long"]
    return {
        "$jsonSchema": {
            "bsonType": "object",
            "required": ["points", "age"],
            "properties": {
                "points": {"bsonType": whole, "minimum": 0, "maximum": MAX_POINTS},
                "age": {"bsonType": whole, "minimum": 0, "maximum": MAX_AGE},
            },
        }
    }


def apply(apps: Any, schema_editor: Any) -> None:
    """The migration's step: collMod the users collection to the validator, strictly."""
    table = apps.get_model("users", "User")._meta.db_table
    schema_editor.connection.database.command(
        "collMod", table, validator=validator(), validationLevel="strict", validationAction="error"
    )


def remove(apps: Any, schema_editor: Any) -> None:
    table = apps.get_model("users", "User")._meta.db_table
    schema_editor.connection.database.command("collMod", table, validator={})


@checks.register(checks.Tags.database)
def check_validator(databases: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """On MongoDB, once the migration is applied, the users collection has the validator."""
    from django.conf import settings
    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    from .models import User

    if not databases or settings.MONGODB_NO_SERVER:
        return []
    errors: list[checks.CheckMessage] = []
    for alias in databases:
        connection = connections[alias]
        if connection.vendor != "mongodb":
            continue
        applied = MigrationRecorder(connection).applied_migrations()
        if MIGRATION not in applied:
            continue  # migrate applies it, and says so; until then nothing is to be checked
        table = User._meta.db_table
        found = list(connection.database.list_collections(filter={"name": table}))  # type: ignore[attr-defined]
        options = found[0].get("options", {}) if found else {}
        if options.get("validator") != validator() or options.get("validationAction") == "warn":
            errors.append(
                checks.Error(
                    f"The {table} collection does not have the validator that holds the users'"
                    " points and age in range (MongoDB has no check constraints).",
                    hint="Run the migrations again, or users.mongo_schema.apply().",
                    obj=User,
                    id="users.E001",
                )
            )
    return errors
