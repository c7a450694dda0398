from datetime import datetime

from celery import Task, shared_task
from django.db import DatabaseError
from django.utils import timezone

from .services import winner_declare


@shared_task(
    bind=True,
    # Acknowledge only after the work is done, and hand the message out again if the worker
    # dies mid-task: the slot is not lost, and the slot's UniqueConstraint stops a duplicate.
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=5,
    default_retry_delay=10,
)
def declare_winner(self: Task, at: str | None = None) -> str:
    """Declare the winner of the current 5-minute slot; Celery beat runs it every 300 s."""
    moment = datetime.fromisoformat(at) if at else timezone.now()
    try:
        return str(winner_declare(at=moment))
    except DatabaseError as exc:
        # A retry decides the same slot, not whichever slot the retry lands in.
        raise self.retry(exc=exc, kwargs={"at": moment.isoformat()}) from exc
