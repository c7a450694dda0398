"""Which database this is, for the ranking index (``IndexIdentity``)."""

from __future__ import annotations

import secrets

from django.db import IntegrityError
from django.db.models import F

from leaderboard.transactions import atomic

from .models import IndexIdentity


def _token() -> str:
    return secrets.token_hex(8)


def identity_current() -> IndexIdentity:
    """This database's identity; made if there is none (``migrate`` makes it, and the first
    use after ``flush``, which empties every table, makes it again)."""
    identity = IndexIdentity.objects.first()
    if identity is not None:
        return identity
    try:
        with atomic():
            return IndexIdentity.objects.create(token=_token())
    except IntegrityError:  # another process made it first
        return IndexIdentity.objects.get()


def identity_renew(*, stale: str) -> IndexIdentity:
    """Give the database a new token, unless another process already replaced ``stale``."""
    IndexIdentity.objects.filter(token=stale).update(token=_token())
    return IndexIdentity.objects.get()


def identity_advance(*, token: str) -> int | None:
    """Move the checkpoint on, and return it; None if the database's token is no longer
    ``token``."""
    if not IndexIdentity.objects.filter(token=token).update(checkpoint=F("checkpoint") + 1):
        return None
    return IndexIdentity.objects.values_list("checkpoint", flat=True).get(token=token)
