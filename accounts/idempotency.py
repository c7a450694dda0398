"""Writes that a client can safely retry: ``Idempotency-Key``.

The first answer to a write sent with a key is saved, per account and key, in the same
database transaction as the write itself: a retry of it (the same method, path and body,
compared as parsed JSON) gets that answer again, with ``Idempotent-Replayed: true``, and
changes nothing; the same key with another request gets a 422. Only successful answers are
kept, so a retry of a refused write (a 409, say) is tried again. Keys are kept for ``KEPT``,
then purged by a periodic task.

Exactly once holds while Redis is down, and between processes: a second request with the key
waits on the first one's row (PostgreSQL) or its transaction (SQLite), or on a replica set
retries its own transaction, which MongoDB aborts with a WriteConflict while the first is
open, and then replays it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import orjson
from django.db import IntegrityError
from django.utils import timezone
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from leaderboard.http.bodies import raw_body
from leaderboard.transactions import atomic, retried

from .models import IdempotentRequest

HEADER = "Idempotency-Key"
KEPT = timedelta(hours=24)
# Printable ASCII, as a header value travels best: a UUID, a hash, an order number.
KEY_PATTERN = re.compile(r"[ -~]{1,255}")
KEY_RULE = "An Idempotency-Key is 1 to 255 printable ASCII characters, like a UUID."


class KeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = (
        "This Idempotency-Key was sent before with a different request. Use a new key for a "
        "new request."
    )
    default_code = "idempotency_key_reused"


class Gone(exceptions.APIException):
    status_code = status.HTTP_410_GONE
    default_detail = (
        "This Idempotency-Key's request was done before, and what it made has been deleted "
        "since. Use a new key to make it again."
    )
    default_code = "idempotency_key_gone"


def idempotent(
    request: Request,
    write: Callable[[], Response],
    *,
    still_there: Callable[[Any], bool] | None = None,
) -> Response:
    """``write()``, at most once per ``Idempotency-Key`` of the request's account.

    ``still_there(body)`` says whether what a first answer names still exists: a replay of
    a create whose user was deleted since is a 410, not a 201 naming an id that is a 404."""
    key = request.headers.get(HEADER)
    if key is None:
        return write()
    if not KEY_PATTERN.fullmatch(key):
        raise exceptions.ValidationError({HEADER: [KEY_RULE]})
    account = request.user
    assert account.is_authenticated  # writes need an account (ReadOnlyOrWriter)
    fingerprint = hashlib.sha256(
        b"\n".join([str(request.method).encode(), request.path.encode(), _canonical(request)])
    ).hexdigest()
    try:
        return _first(account, key, fingerprint, write)
    except _Taken:
        # The key was claimed meanwhile, and that claim has committed (a concurrent one waits
        # for it: on its row on PostgreSQL, its transaction on SQLite, or by retrying a
        # WriteConflict on MongoDB). The exception left this request's transaction first:
        # MongoDB aborts a transaction on any write error, so nothing more may be read in it.
        return _replay(account, key, fingerprint, still_there)


class _Taken(Exception):
    """The key's row exists: its transaction, aborted, is left before anything else is read."""


class _Refused(Exception):
    """Rolls back the claim of a write that was refused, so that the key stays free for a
    retry (``transaction.set_rollback`` knows only Django's own atomic, not MongoDB's)."""

    def __init__(self, response: Response) -> None:
        self.response = response


@retried
def _first(account: Any, key: str, fingerprint: str, write: Callable[[], Response]) -> Response:
    """``write()``, its answer saved in the same transaction under the key; ``_Taken`` if
    the key is taken."""
    try:
        with atomic():
            IdempotentRequest.objects.filter(
                account=account, key=key, created_at__lt=timezone.now() - KEPT
            ).delete()
            try:
                claim = IdempotentRequest.objects.create(
                    account=account, key=key, fingerprint=fingerprint, status=0, body={}
                )
            except IntegrityError:
                raise _Taken from None
            response = write()
            if not status.is_success(response.status_code):
                raise _Refused(response)
            claim.status, claim.body = response.status_code, response.data
            claim.save(update_fields=["status", "body"])
    except _Refused as refused:
        return refused.response
    return response


def _canonical(request: Request) -> bytes:
    """The body as canonical JSON (keys sorted, no spaces): a retry that spaces or orders
    its JSON differently is the same request. A body that is not JSON is taken as sent (the
    write refuses it anyway)."""
    body = raw_body(request)
    try:
        return orjson.dumps(orjson.loads(body), option=orjson.OPT_SORT_KEYS) if body else b""
    except (orjson.JSONDecodeError, RecursionError):
        return body


def _replay(
    account: Any, key: str, fingerprint: str, still_there: Callable[[Any], bool] | None
) -> Response:
    kept = IdempotentRequest.objects.get(account=account, key=key)
    if kept.fingerprint != fingerprint:
        raise KeyReused
    if still_there is not None and not still_there(kept.body):
        raise Gone
    return Response(kept.body, status=kept.status, headers={"Idempotent-Replayed": "true"})


def idempotency_keys_purge() -> int:
    """Forget keys older than ``KEPT``; returns how many went."""
    deleted, _ = IdempotentRequest.objects.filter(created_at__lt=timezone.now() - KEPT).delete()
    return deleted
