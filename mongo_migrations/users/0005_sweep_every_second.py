"""Sweep the ranking index every second: the same data migration as
users/migrations/0008_sweep_every_second.py, on MongoDB."""

from importlib import import_module

from django.db import migrations

sql = import_module("users.migrations.0008_sweep_every_second")


class Migration(migrations.Migration):
    dependencies = [("users", "0004_index_knows_what_it_holds"), ("django_celery_beat", "0001_initial")]

    operations = [migrations.RunPython(sql.forwards, sql.backwards)]
