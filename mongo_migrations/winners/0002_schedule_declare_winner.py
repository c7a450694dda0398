"""Declare the winner at the slot boundaries: the schedule that winners/migrations/0002 and
0003 leave on SQL databases, on MongoDB."""

from importlib import import_module

from django.db import migrations

from leaderboard.beat import unschedule

sql = import_module("winners.migrations.0003_schedule_at_slot_boundaries")


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    unschedule(apps, name=sql.TASK_NAME)


class Migration(migrations.Migration):
    dependencies = [("winners", "0001_initial"), ("django_celery_beat", "0001_initial")]

    operations = [migrations.RunPython(sql.at_boundaries, backwards)]
