"""Writes to leaderboard users. Each keeps the ranking index in step after its commit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from . import ranking
from .models import MAX_POINTS, User
from .selectors import index_entries, user_pk, with_ranks


class PointsOutOfRange(Exception):
    """The change would take points below 0 (or past the maximum). Nothing changed."""

    def __init__(self, user: User, delta: int) -> None:
        self.user, self.delta = user, delta
        if delta < 0:
            message = (
                f"{user.name} has {user.points} points; taking away {-delta} would go below 0."
            )
        else:
            message = (
                f"{user.name} has {user.points} points; adding {delta} would pass {MAX_POINTS}."
            )
        super().__init__(message)


def _index_after_commit(user_id: Any) -> User:
    """Read the row as this transaction leaves it and, once committed, give it to the index.

    The read happens inside the transaction, so the (points, version) pair is exactly the one
    this write commits; the index keeps whichever pair it sees with the highest version.
    """
    user = User.objects.get(pk=user_id)
    entry = ranking.Entry(user.pk, user.points, user.version, deleted=user.is_deleted)
    transaction.on_commit(lambda: ranking.put([entry]))
    return user


def user_create(*, name: str, age: int, address: str = "") -> User:
    with transaction.atomic():
        user = User(name=name, age=age, address=address)
        user.full_clean()
        user.save(force_insert=True)
        _index_after_commit(user.pk)
    return with_ranks([user])[0]


def users_bulk_create(users: list[User], *, batch_size: int = 1000) -> list[User]:
    """Insert many unsaved users at once (seeding, factories) and add them to the index.

    Their points are kept as given; the index gets them in pipelined batches.
    """
    with transaction.atomic():
        created = User.objects.bulk_create(users, batch_size=batch_size)
        entries = [ranking.Entry(u.pk, u.points, u.version) for u in created]
        transaction.on_commit(lambda: ranking.put(entries))
    return created


def user_update(*, user_id: Any, **fields: Any) -> User:
    """Change name, age and/or address. Points and the index are not touched."""
    allowed = {"name", "age", "address"}
    if unknown := set(fields) - allowed:
        raise TypeError(f"user_update() cannot change {sorted(unknown)}")
    with transaction.atomic():
        user = User.objects.alive().get(pk=user_pk(user_id))
        for field, value in fields.items():
            setattr(user, field, value)
        user.full_clean(exclude=["points"])
        user.save(update_fields=list(fields))
    return with_ranks([user])[0]


def points_change(*, user_id: Any, delta: int) -> User:
    """Add ``delta`` (negative to take away) to a user's points in one conditional UPDATE.

    Raises ``User.DoesNotExist`` for an unknown or deleted user and ``PointsOutOfRange`` when
    the result would leave 0..MAX_POINTS; in both cases nothing changes.
    """
    pk = user_pk(user_id)
    with transaction.atomic():
        changed = (
            User.objects.alive()
            .filter(pk=pk, points__gte=max(0, -delta), points__lte=MAX_POINTS - max(0, delta))
            .update(points=F("points") + delta, version=F("version") + 1)
        )
        if not changed:
            raise PointsOutOfRange(User.objects.alive().get(pk=pk), delta)
        user = _index_after_commit(pk)
    return with_ranks([user])[0]


def user_delete(*, user_id: Any) -> None:
    """Soft delete: the row stays for the winners history; the user leaves every list."""
    pk = user_pk(user_id)
    with transaction.atomic():
        changed = (
            User.objects.alive()
            .filter(pk=pk)
            .update(deleted_at=timezone.now(), version=F("version") + 1)
        )
        if not changed:
            raise User.DoesNotExist
        _index_after_commit(pk)


def user_restore(*, user_id: Any) -> User:
    """Bring a soft-deleted user back, with the points they had."""
    pk = user_pk(user_id)
    with transaction.atomic():
        changed = (
            User.objects.filter(pk=pk)
            .exclude(deleted_at=None)
            .update(deleted_at=None, version=F("version") + 1)
        )
        if not changed:
            raise User.DoesNotExist
        user = _index_after_commit(pk)
    return with_ranks([user])[0]


def leaderboard_rebuild(
    *, chunk_size: int = 10_000, on_chunk: Callable[[int], object] | None = None
) -> int:
    """Rebuild the ranking index from the database and swap it in. Returns the live count.

    Raises ``ranking.RebuildInProgress`` or ``ranking.RedisUnavailable``.
    """
    return ranking.rebuild(index_entries(chunk_size=chunk_size), on_chunk=on_chunk)
