"""The ranking index knows what it holds: the database's identity (made here, and again after
a flush), the pending mark every write sets, its partial index, and the ranges of bulk loads.

Rows that exist already are not marked: the identity is new, so the index is built whole from
the database, and the mark is for writes after that.
"""

import secrets

import django.db.models.deletion
from django.db import migrations, models


def make_identity(apps, schema_editor):  # type: ignore[no-untyped-def]
    identity = apps.get_model("users", "IndexIdentity")
    if not identity.objects.exists():
        identity.objects.create(token=secrets.token_hex(8))


class Migration(migrations.Migration):
    dependencies = [
        ("users", "0006_name_fragment_counts"),
    ]

    operations = [
        migrations.CreateModel(
            name="IndexIdentity",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "name",
                    models.CharField(
                        default="default", editable=False, max_length=20, unique=True
                    ),
                ),
                ("token", models.CharField(editable=False, max_length=32, unique=True)),
                ("checkpoint", models.PositiveBigIntegerField(default=0, editable=False)),
            ],
            options={"verbose_name": "ranking index identity"},
        ),
        migrations.RunPython(make_identity, migrations.RunPython.noop),
        migrations.CreateModel(
            name="PendingRange",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "first",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="users.user",
                    ),
                ),
                (
                    "last",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="users.user",
                    ),
                ),
            ],
        ),
        # Existing rows unmarked, new ones marked by the database's default too (COPY, raw SQL).
        migrations.AddField(
            model_name="user",
            name="index_pending",
            field=models.BooleanField(default=False, editable=False),
        ),
        migrations.AlterField(
            model_name="user",
            name="index_pending",
            field=models.BooleanField(db_default=True, default=True, editable=False),
        ),
        migrations.AddIndex(
            model_name="user",
            index=models.Index(
                condition=models.Q(("index_pending", True)),
                fields=["id"],
                name="users_user_index_pending_idx",
            ),
        ),
    ]
