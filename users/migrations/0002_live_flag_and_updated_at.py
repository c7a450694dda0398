"""A `deleted` flag for the live-users index (MongoDB accepts equality conditions only), and
an indexed `updated_at` from which the ranking index is repaired.

The new partial index is built before the old one is dropped, so the board's queries keep an
index throughout. Both fields are added with constant defaults, which PostgreSQL applies
without rewriting the table.
"""

import django.utils.timezone
from django.db import migrations, models

import users.validators


def flag_deleted(apps, schema_editor):  # type: ignore[no-untyped-def]
    User = apps.get_model("users", "User")
    User.objects.exclude(deleted_at=None).update(deleted=True)


def unflag_deleted(apps, schema_editor):  # type: ignore[no-untyped-def]
    """`deleted_at` still says who is deleted; the flag goes with its column."""


class Migration(migrations.Migration):
    dependencies = [
        ("users", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="deleted",
            field=models.BooleanField(default=False, editable=False),
        ),
        migrations.AddField(
            model_name="user",
            name="updated_at",
            field=models.DateTimeField(default=django.utils.timezone.now, editable=False),
        ),
        migrations.RunPython(flag_deleted, unflag_deleted, elidable=True),
        migrations.AddIndex(
            model_name="user",
            index=models.Index(
                condition=models.Q(("deleted", False)),
                fields=["-points", "id"],
                name="users_user_live_board_idx",
            ),
        ),
        migrations.RemoveIndex(
            model_name="user",
            name="users_user_board_idx",
        ),
        migrations.AddIndex(
            model_name="user",
            index=models.Index(fields=["updated_at"], name="users_user_updated_idx"),
        ),
        migrations.AlterField(
            model_name="user",
            name="address",
            field=models.CharField(
                blank=True,
                default="",
                max_length=255,
                validators=[users.validators.validate_printable],
            ),
        ),
        migrations.AlterField(
            model_name="user",
            name="name",
            field=models.CharField(
                max_length=100, validators=[users.validators.validate_printable]
            ),
        ),
    ]
