"""Celery beat's scheduler: django-celery-beat's, with a heartbeat for the container's health
check (deploy/healthcheck.py beat), which cannot otherwise tell a ticking beat from one whose
loop is stuck."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django_celery_beat.schedulers import DatabaseScheduler


def heartbeat_file() -> Path:
    # deploy/healthcheck.py looks for the same name under $VAR_DIR.
    return Path(settings.VAR_DIR) / "beat.heartbeat"


class HeartbeatScheduler(DatabaseScheduler):
    def tick(self, *args: Any, **kwargs: Any) -> float:
        delay: float = super().tick(*args, **kwargs)
        path = heartbeat_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        return delay
