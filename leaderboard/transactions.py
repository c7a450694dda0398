"""Transactions that are real on every backend, and retried where MongoDB may abort them.

Django's `transaction.atomic()` does nothing on MongoDB: django-mongodb-backend has an
`atomic` of its own, which starts a real multi-document transaction, and MongoDB allows
those only on a replica set or a sharded cluster. On a standalone server there is no
transaction to be had, and the services rely on what holds without one: single-document
conditional updates and unique indexes.

MongoDB does not queue a transaction's write behind another one's on the same document, as
PostgreSQL does: it aborts it with `WriteConflict`, labelled `TransientTransactionError`, and
the whole transaction is to be run again. `retried` does that, on pymongo's rules for
`with_transaction` (a jittered exponential backoff, within a time limit), around the write
services. The busiest of them, a points change, needs no transaction on MongoDB (one
document's `findAndModify`, which the server serializes itself), so that sixteen clients
adding points to one user at once never wait on each other's retries.
"""

from __future__ import annotations

import contextlib
import functools
import random
import time
from collections.abc import Callable, Iterator
from typing import Any, ParamSpec, TypeVar

from django.db import connection, transaction

# pymongo's with_transaction gives up after 120 s; a write service answers a web request, so
# it gives up sooner, with a 503 (leaderboard/errors.py) the client may retry.
RETRY_SECONDS = 10.0
# pymongo's backoff before the n-th retry: random() * min(INITIAL * 1.5**n, MAX).
_BACKOFF_INITIAL = 0.005
_BACKOFF_MAX = 0.5

P = ParamSpec("P")
R = TypeVar("R")


def atomic() -> Any:
    """A transaction around the block: Django's on SQL databases, the backend's on a MongoDB
    replica set, none on a standalone MongoDB server."""
    if connection.vendor != "mongodb":
        return transaction.atomic()
    if getattr(connection.features, "_supports_transactions", False):
        from django_mongodb_backend import transaction as mongodb

        if connection.in_atomic_block and not connection.in_atomic_block_mongo:  # type: ignore[attr-defined]
            return _inside_djangos_atomic(mongodb.atomic())
        return mongodb.atomic()
    return contextlib.nullcontext()


@contextlib.contextmanager
def _inside_djangos_atomic(block: Any) -> Iterator[None]:
    """The backend's transaction inside Django's own atomic() (the admin wraps its views in
    one), which starts nothing on MongoDB but, while open, makes the backend refuse to run
    the commit hooks at this transaction's commit. This block is the transaction that
    commits, so Django's flag is lowered for its length."""
    outer = connection.in_atomic_block
    connection.in_atomic_block = False
    try:
        with block:
            yield
    finally:
        connection.in_atomic_block = outer


def is_transient(exc: BaseException) -> bool:
    """Whether MongoDB aborted the transaction and running it again may succeed. The backend
    raises pymongo's error as it is, or as the cause of a Django DatabaseError."""
    seen: BaseException | None = exc
    while seen is not None:
        if type(seen).__module__.startswith("pymongo.errors"):
            return bool(seen.has_error_label("TransientTransactionError"))  # type: ignore[attr-defined]
        seen = seen.__cause__
    return False


def retried(service: Callable[P, R]) -> Callable[P, R]:
    """Run ``service`` (whose writes are in ``atomic()``) again when MongoDB aborts its
    transaction as transient. Inside an outer transaction it runs once: the outer one is what
    MongoDB aborted, so it is the outer one that runs again (the outermost ``retried``)."""

    @functools.wraps(service)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        if connection.vendor != "mongodb" or getattr(connection, "in_atomic_block_mongo", True):
            return service(*args, **kwargs)
        started = time.monotonic()
        retry = 0
        while True:
            try:
                return service(*args, **kwargs)
            except Exception as exc:
                _end_failed_transaction()
                if not is_transient(exc):
                    raise
                retry += 1
                backoff = random.random() * min(_BACKOFF_INITIAL * 1.5**retry, _BACKOFF_MAX)  # noqa: S311
                if time.monotonic() + backoff - started >= RETRY_SECONDS:
                    raise
                time.sleep(backoff)

    return run


def _end_failed_transaction() -> None:
    """The backend's atomic() leaves its session open when the commit itself fails (it rolls
    back only on a Django DatabaseError, and pymongo raises its own): end it, so that the next
    atomic() starts a transaction of its own rather than reusing the dead one."""
    if getattr(connection, "session", None) is None:
        return
    with contextlib.suppress(Exception):  # the server has already aborted it
        connection.rollback_mongo()  # type: ignore[attr-defined]
    if connection.session is not None:  # type: ignore[attr-defined]
        connection._end_session()  # type: ignore[attr-defined]
        connection.run_on_commit = []
