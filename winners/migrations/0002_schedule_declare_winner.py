"""Register the winner job with Celery beat, so a fresh install needs no manual step.

Operators change or pause it in the admin (Periodic tasks). Re-applying this migration
reuses whichever 300-second interval exists (winners 0003 then moves the job to the slot
boundaries).
"""

from django.db import migrations

from leaderboard.beat import schedule, unschedule

TASK_NAME = "Declare the winner every 5 minutes"


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    schedule(apps, name=TASK_NAME, task="winners.tasks.declare_winner", every_seconds=300)


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    unschedule(apps, name=TASK_NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("winners", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
