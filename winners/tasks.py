import logging
from datetime import datetime
from typing import Any

from celery import Task, shared_task
from celery.signals import before_task_publish
from django.db import DatabaseError
from django.utils import timezone

from .services import Outcome, winner_declare

logger = logging.getLogger(__name__)

TASK_NAME = "winners.tasks.declare_winner"


@shared_task(
    name=TASK_NAME,
    bind=True,
    # Acknowledge only after the work is done, and hand the message out again if the worker
    # dies mid-task: the slot is not lost, and the slot's UniqueConstraint stops a duplicate.
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=5,
    default_retry_delay=10,
)
def declare_winner(self: Task, at: str | None = None) -> str:
    """Declare the winner of the slot the tick was scheduled for; Celery beat sends a tick at
    every slot boundary (12:00, 12:05, ... UTC)."""
    moment = datetime.fromisoformat(at) if at else timezone.now()
    try:
        decision = winner_declare(at=moment)
    except DatabaseError as exc:
        # A retry decides the same slot, not whichever slot the retry lands in.
        raise self.retry(exc=exc, kwargs={"at": moment.isoformat()}) from exc
    log = logger.warning if decision.outcome == Outcome.LATE else logger.info
    log("%s", decision)
    return str(decision)


@before_task_publish.connect(sender=TASK_NAME)
def stamp_tick(body: Any, **kwargs: Any) -> None:
    """Beat sends the tick without arguments: stamp it with the moment it is sent, so that
    the task decides the slot it was scheduled for however late a worker takes it, or takes
    it again after a worker died."""
    _, task_kwargs, _ = body
    task_kwargs.setdefault("at", timezone.now().isoformat())
