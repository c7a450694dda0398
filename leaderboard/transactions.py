"""Transactions that are real on every backend.

Django's `transaction.atomic()` does nothing on MongoDB: django-mongodb-backend has an
`atomic` of its own, which starts a real multi-document transaction, and MongoDB allows
those only on a replica set or a sharded cluster. On a standalone server there is no
transaction to be had, and the services rely on what holds without one: single-document
conditional updates and unique indexes.
"""

import contextlib
from typing import Any

from django.db import connection, transaction


def atomic() -> Any:
    """A transaction around the block: Django's on SQL databases, the backend's on a MongoDB
    replica set, none on a standalone MongoDB server."""
    if connection.vendor != "mongodb":
        return transaction.atomic()
    if getattr(connection.features, "_supports_transactions", False):
        from django_mongodb_backend import transaction as mongodb

        return mongodb.atomic()
    return contextlib.nullcontext()
