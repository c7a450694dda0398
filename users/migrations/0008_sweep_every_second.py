"""Beat sweeps the ranking index every second (the rows marked as pending), in place of the
repair every 10 seconds from a watermark."""

from django.db import migrations

from leaderboard.beat import schedule, unschedule

REPAIR = "Repair the ranking index every 10 seconds"
SWEEP = "Sweep the ranking index every second"


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    unschedule(apps, name=REPAIR)
    schedule(apps, name=SWEEP, task="users.tasks.sweep_leaderboard", every_seconds=1,
             expire_seconds=2)


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    unschedule(apps, name=SWEEP)
    schedule(apps, name=REPAIR, task="users.tasks.repair_leaderboard", every_seconds=10,
             expire_seconds=10)


class Migration(migrations.Migration):
    dependencies = [
        ("users", "0007_index_knows_what_it_holds"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
