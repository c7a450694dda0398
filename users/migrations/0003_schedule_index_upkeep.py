"""Schedule the ranking index's upkeep with Celery beat: a repair every 10 seconds, and the
fingerprint check every 5 minutes (2 minutes off the winner job's slot boundaries)."""

from django.db import migrations

from leaderboard.beat import schedule, unschedule

REPAIR = "Repair the ranking index every 10 seconds"
CHECK = "Check the ranking index every 5 minutes"


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    schedule(apps, name=REPAIR, task="users.tasks.repair_leaderboard", every_seconds=10,
             expire_seconds=10)
    schedule(apps, name=CHECK, task="users.tasks.check_leaderboard", minute="2-59/5",
             expire_seconds=300)


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    unschedule(apps, name=REPAIR)
    unschedule(apps, name=CHECK)


class Migration(migrations.Migration):
    dependencies = [
        ("users", "0002_live_flag_and_updated_at"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
