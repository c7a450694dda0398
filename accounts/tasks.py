import logging

from celery import shared_task

from .idempotency import idempotency_keys_purge

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def purge_idempotency_keys() -> None:
    """Forget Idempotency-Keys older than a day; beat runs it every hour."""
    logger.info("Purged %d Idempotency-Keys older than a day.", idempotency_keys_purge())
