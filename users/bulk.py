"""Loading many new users at once (seeding), and telling the index about them.

On PostgreSQL the rows go in with COPY, the bulk path PostgreSQL is built for: Django 5.2's
``bulk_create`` there adapts every value into arrays in Python, about 90 µs a row against a
few for COPY. The ids are taken from the table's sequence first, so that the index learns
each user with its id, and concurrent inserts elsewhere stay unaffected. Other databases use
``bulk_create``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple, cast

from django.db import connection, transaction
from django.utils import timezone

from leaderboard.transactions import atomic

from . import name_fragments, ranking
from .models import User


class NewUser(NamedTuple):
    name: str
    address: str
    age: int
    points: int


def users_load(
    people: Sequence[NewUser],
    *,
    index: Callable[[list[ranking.Entry]], object] = ranking.put,
) -> None:
    """Insert ``people`` as new users with the points given, and hand them to ``index`` (the
    ranking index) once the transaction commits. The seed command passes a function that
    queues them for a thread, so that Redis works while the next batch is copied."""
    with atomic():
        if connection.vendor == "postgresql":
            with name_fragments.counted_here([person.name for person in people]):
                ids = _copy(people)
        else:
            created = User.objects.bulk_create(
                [User(name=p.name, address=p.address, age=p.age, points=p.points) for p in people]
            )
            ids = [user.pk for user in created]
        # Plain tuples in the Entry layout: making a million Entry objects costs seconds.
        entries = cast(
            list[ranking.Entry],
            [
                (pk, person.points, 0, person.age, False)
                for pk, person in zip(ids, people, strict=True)
            ],
        )
        transaction.on_commit(lambda: index(entries))


def _copy(people: Sequence[NewUser]) -> list[int]:
    table = User._meta.db_table
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [table, len(people)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        columns = "id, name, address, age, points, version, created_at, updated_at, deleted"
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for pk, person in zip(ids, people, strict=True):
                copy.write_row((pk, *person, 0, now, now, False))
    return ids
