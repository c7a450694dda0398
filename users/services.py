"""Writes to leaderboard users. Each bumps the row's version, stamps ``updated_at`` and marks
the row as pending for the index in one statement, and hands the committed state to the index
(``users/indexing.py``; the sweep applies what never arrives)."""

from __future__ import annotations

import functools
from typing import Any

from django.db import connection
from django.db.models import F
from django.utils import timezone

from leaderboard.db import prepared_cursor
from leaderboard.transactions import atomic, retried

from . import ranking
from .indexing import index_on_commit
from .models import MAX_POINTS, User, user_columns
from .selectors import RankedUser, fallback, user_pk, with_ranks


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


class PointsOutOfRange(Exception):
    """The change would take points below 0 (or past the maximum). Nothing changed."""

    def __init__(self, user: User, delta: int) -> None:
        self.user, self.delta = user, delta
        has = f"{user.name} has {_plural(user.points, 'point')}"
        if delta < 0:
            message = f"{has}; taking away {-delta:,} would go below 0."
        else:
            message = f"{has}; adding {delta:,} would pass the maximum, {MAX_POINTS:,}."
        super().__init__(message)


def _changed() -> dict[str, Any]:
    """What every write sets besides its own change: a new version, the moment (for the
    fingerprint check and the backlog's report), and the mark the sweep clears once the index
    holds that version."""
    return {"version": F("version") + 1, "updated_at": timezone.now(), "index_pending": True}


_STATE = ("name", "age", "address", "points", "version", "deleted")


def _index_after_commit(pk: Any) -> RankedUser:
    """Read the row as this transaction leaves it and hand it to the index (``_hand_over``).

    The read happens inside the transaction, so the state is exactly the one this write
    commits; the index keeps whichever state it sees with the highest version.
    """
    return _hand_over(pk, User.objects.filter(pk=pk).values_list(*_STATE).get())


def _hand_over(pk: Any, state: tuple[Any, ...]) -> RankedUser:
    """Give the committed ``state`` (``_STATE``'s fields) to the index once it is committed,
    and answer with the user, ranked. The index's own answer has the rank when the write has
    committed (outside a transaction it has); else the rank is read, leaving the user out of
    the count, so that it is right before the index write lands."""
    name, age, address, points, version, deleted = state
    handover = index_on_commit([ranking.Entry(pk, points, version, age, deleted)])
    rank = 0 if deleted else handover.rank or ranking.rank(pk, points)
    if rank is None:
        with fallback():
            rank = User.objects.alive().filter(points__gt=points).exclude(pk=pk).count() + 1
    return RankedUser(pk, name, age, address, points, rank)


@retried
def user_create(*, name: str, age: int, address: str = "") -> RankedUser:
    user = User(name=name, age=age, address=address)
    user.full_clean()
    with atomic():
        user.save(force_insert=True)
        index_on_commit([ranking.Entry(user.pk, user.points, user.version, user.age)])
    return with_ranks([user])[0]


@retried
def users_bulk_create(users: list[User], *, batch_size: int = 1000) -> list[User]:
    """Insert many unsaved users at once (factories, tests) and add them to the index.

    Their points are kept as given; each row is marked, and the index gets them in pipelined
    batches.
    """
    with atomic():
        created = User.objects.bulk_create(users, batch_size=batch_size)
        index_on_commit([ranking.Entry(u.pk, u.points, u.version, u.age) for u in created])
    return created


@retried
def user_update(*, user_id: Any, **fields: Any) -> RankedUser:
    """Change name, age and/or address. Points are not changed here."""
    allowed = {"name", "age", "address"}
    if unknown := set(fields) - allowed:
        raise TypeError(f"user_update() cannot change {sorted(unknown)}")
    pk = user_pk(user_id)
    candidate = User.objects.alive().get(pk=pk)
    for field, value in fields.items():
        setattr(candidate, field, value)
    candidate.full_clean(exclude=["points"])
    with atomic():
        # One conditional UPDATE, like a points change: a concurrent change of points is
        # neither lost nor overwritten.
        if not User.objects.alive().filter(pk=pk).update(**fields, **_changed()):
            raise User.DoesNotExist
        return _index_after_commit(pk)


@retried
def points_change(*, user_id: Any, delta: int) -> RankedUser:
    """Add ``delta`` (negative to take away) to a user's points in one conditional UPDATE.

    Raises ``User.DoesNotExist`` for an unknown or deleted user and ``PointsOutOfRange`` when
    the result would leave 0..MAX_POINTS; in both cases nothing changes.
    """
    pk = user_pk(user_id)
    low, high = max(0, -delta), MAX_POINTS - max(0, delta)
    added = _points_added_mongodb if connection.vendor == "mongodb" else _points_added
    state = added(pk, delta, low, high)
    if state is None:
        raise PointsOutOfRange(User.objects.alive().get(pk=pk), delta)
    return _hand_over(pk, state)


def _points_added(pk: Any, delta: int, low: int, high: int) -> tuple[Any, ...] | None:
    """The SQL databases' points change: the UPDATE of ``points_change``, its mark and the
    state it leaves in one statement, a transaction of its own outside an outer one. It is
    the busiest write, and this is one round trip where the ORM needs four (BEGIN, UPDATE,
    SELECT, COMMIT). None when no row matched."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with prepared_cursor() as cursor:
        cursor.execute(_points_sql(connection.vendor), [delta, now, pk, low, high])
        rows = cursor.fetchall()  # to the end: SQLite ends the statement, and commits, there
    return (*rows[0], False) if rows else None


def _points_added_mongodb(pk: Any, delta: int, low: int, high: int) -> tuple[Any, ...] | None:
    """MongoDB's ``_points_added``: one ``findAndModify`` of the one document, outside any
    transaction. A single-document write is atomic on its own, and the server queues
    concurrent ones on the same document itself; inside a transaction, each would abort the
    others with a ``WriteConflict`` for the client to run again, and under sixteen clients on
    one user some would give up. What it sets besides the change is ``_changed()``'s."""
    from pymongo import ReturnDocument  # MongoDB mode only: SQL processes never load pymongo

    table, column = user_columns(connection)
    document = connection.get_collection(table).find_one_and_update(  # type: ignore[attr-defined]
        {column["pk"]: pk, column["deleted"]: False, column["points"]: {"$gte": low, "$lte": high}},
        {
            "$inc": {column["points"]: delta, column["version"]: 1},
            "$set": {
                column["updated_at"]: connection.ops.adapt_datetimefield_value(timezone.now()),
                column["index_pending"]: True,
            },
        },
        projection=[column[name] for name in _STATE],
        session=connection.session,  # type: ignore[attr-defined]  # an outer transaction's, if any
        return_document=ReturnDocument.AFTER,
    )
    if document is None:
        return None
    name, age, address, points, version, deleted = (document[column[name]] for name in _STATE)
    # A server may answer $inc's results as bson's Int64, which the index's encoder refuses.
    return name, age, address, int(points), int(version), deleted


@functools.cache
def _points_sql(vendor: str) -> str:
    """``_points_added``'s statement for ``vendor``: the change, and what ``_changed()`` sets
    besides it."""
    table, column = user_columns(connection)
    points, version = column["points"], column["version"]
    # Names from the model, quoted; every value is a parameter.
    return (
        f"UPDATE {table} SET {points} = {points} + %s, "  # noqa: S608
        f"{version} = {version} + 1, {column['updated_at']} = %s, "
        f"{column['index_pending']} = TRUE "
        f"WHERE {column['pk']} = %s AND NOT {column['deleted']} AND {points} BETWEEN %s AND %s "
        f"RETURNING {', '.join(column[name] for name in _STATE[:-1])}"
    )


@retried
def user_delete(*, user_id: Any) -> None:
    """Soft delete: the row stays for the winners history; the user leaves every list."""
    pk = user_pk(user_id)
    with atomic():
        now = timezone.now()
        changed = (
            User.objects.alive().filter(pk=pk).update(deleted=True, deleted_at=now, **_changed())
        )
        if not changed:
            raise User.DoesNotExist
        _index_after_commit(pk)


@retried
def user_restore(*, user_id: Any) -> RankedUser:
    """Bring a soft-deleted user back, with the points they had."""
    pk = user_pk(user_id)
    with atomic():
        changed = User.objects.filter(pk=pk, deleted=True).update(
            deleted=False, deleted_at=None, **_changed()
        )
        if not changed:
            raise User.DoesNotExist
        return _index_after_commit(pk)
