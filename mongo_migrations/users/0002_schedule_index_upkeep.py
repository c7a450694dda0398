"""Schedule the ranking index's upkeep: the same data migration as users/migrations/0003_schedule_index_upkeep.py, on MongoDB."""

from importlib import import_module

from django.db import migrations

sql = import_module("users.migrations.0003_schedule_index_upkeep")


class Migration(migrations.Migration):
    dependencies = [("users", "0001_initial"), ("django_celery_beat", "0001_initial")]

    operations = [migrations.RunPython(sql.forwards, sql.backwards)]
