"""Purge Idempotency-Keys older than a day, every hour."""

from django.db import migrations

from leaderboard.beat import schedule, unschedule

NAME = "Purge Idempotency-Keys every hour"


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    schedule(
        apps, name=NAME, task="accounts.tasks.purge_idempotency_keys", minute="17",
        expire_seconds=3600,
    )


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    unschedule(apps, name=NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_idempotent_requests"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
