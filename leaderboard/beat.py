"""Entries of Celery beat's schedule, for the data migrations that create them.

Each works on the historical models a migration passes in, so that it can be re-applied
(after a rollback, or on a database that already holds a similar schedule) without finding
two rows where it expects one.
"""

from importlib import import_module
from typing import Any

from django.apps import apps as django_apps

from .transactions import atomic

# The data migrations that make today's schedule: the winner job and the index's and the
# Idempotency-Keys' upkeep.
SCHEDULING_MIGRATIONS = [
    ("users.migrations.0003_schedule_index_upkeep", "forwards"),
    ("users.migrations.0008_sweep_every_second", "forwards"),
    ("winners.migrations.0003_schedule_at_slot_boundaries", "at_boundaries"),
    ("accounts.migrations.0003_schedule_idempotency_purge", "forwards"),
]


def schedule(
    apps: Any,
    *,
    name: str,
    task: str,
    every_seconds: int | None = None,
    minute: str | None = None,
    expire_seconds: int | None = None,
) -> None:
    """Create or update the periodic task ``name``: every ``every_seconds``, or on a UTC
    crontab ``minute`` field (every hour, every day)."""
    periodic_task = apps.get_model("django_celery_beat", "PeriodicTask")
    when: dict[str, Any]
    if every_seconds is not None:
        when = {"interval": _row(apps, "IntervalSchedule", every=every_seconds, period="seconds")}
        when["crontab"] = None
    else:
        crontab = _row(
            apps,
            "CrontabSchedule",
            minute=minute,
            hour="*",
            day_of_week="*",
            day_of_month="*",
            month_of_year="*",
            timezone="UTC",
        )
        when = {"crontab": crontab, "interval": None}
    periodic_task.objects.update_or_create(
        name=name,
        defaults={"task": task, "expire_seconds": expire_seconds, **when},
    )


def unschedule(apps: Any, *, name: str) -> None:
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=name).delete()


def _row(apps: Any, model: str, **fields: Any) -> Any:
    """The first row with ``fields``, created if there is none: an operator may have added an
    equal one, which ``get_or_create`` would trip over."""
    rows = apps.get_model("django_celery_beat", model).objects
    return rows.filter(**fields).order_by("pk").first() or rows.create(**fields)


def restore_after_flush(*, plan: Any = None, **kwargs: Any) -> None:
    """``post_migrate`` receiver: after ``manage.py flush``, which empties every table (these
    rows included) and runs no migration, make the schedule again as the migrations made it.
    Without it no winner is declared and nothing repairs the index. ``migrate`` sends its
    plan (empty when nothing ran) and leaves the schedule to the migrations."""
    if plan is not None:
        return
    with atomic():  # one commit, not one per row: test runs flush after each test
        for module, function in SCHEDULING_MIGRATIONS:
            getattr(import_module(module), function)(django_apps, None)
