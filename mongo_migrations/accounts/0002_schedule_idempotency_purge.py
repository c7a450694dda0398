"""Purge Idempotency-Keys every hour: the same data migration as accounts/migrations/0003_schedule_idempotency_purge.py, on MongoDB."""

from importlib import import_module

from django.db import migrations

sql = import_module("accounts.migrations.0003_schedule_idempotency_purge")


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial"), ("django_celery_beat", "0001_initial")]

    operations = [migrations.RunPython(sql.forwards, sql.backwards)]
