"""Run the winner job at the slot boundaries (12:00, 12:05, ... UTC) rather than every 300 s
from whenever beat started, and let a tick expire once its slot is over."""

from django.db import migrations

from leaderboard.beat import schedule

TASK_NAME = "Declare the winner every 5 minutes"


def at_boundaries(apps, schema_editor):  # type: ignore[no-untyped-def]
    schedule(
        apps,
        name=TASK_NAME,
        task="winners.tasks.declare_winner",
        minute="*/5",
        expire_seconds=300,
    )


def every_300_seconds(apps, schema_editor):  # type: ignore[no-untyped-def]
    schedule(apps, name=TASK_NAME, task="winners.tasks.declare_winner", every_seconds=300)


class Migration(migrations.Migration):
    dependencies = [("winners", "0002_schedule_declare_winner")]

    operations = [migrations.RunPython(at_boundaries, every_300_seconds)]
