"""The counts PostgreSQL keeps of live users' names by 2- and 3-character fragment.

Triggers keep them in step with every write (migration ``users 0006``), so a short search's
``count`` is a primary-key lookup instead of a pass over most of the table.
"""

from __future__ import annotations

import string
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django.db import connection

LENGTHS = (2, 3)


def matches(text: str) -> int | None:
    """How many live users' names contain ``text`` in any case, or None where no count is kept
    (another database, or a fragment of another length)."""
    if connection.vendor != "postgresql" or len(text) not in LENGTHS:
        return None
    with connection.cursor() as cursor:
        # upper() on both sides, like the match itself (``icontains``).
        cursor.execute("SELECT users FROM users_name_fragment WHERE fragment = upper(%s)", [text])
        row = cursor.fetchone()
    return row[0] if row else 0


@contextmanager
def counted_here(names: Sequence[str]) -> Iterator[None]:
    """Around a bulk insert of users with these ``names`` (all live), inside a transaction:
    the insert's trigger skips its counting, and the counts are added from here instead.

    Seeding is where it pays: Python counts a batch of names about four times as fast as the
    trigger's SQL. It does so only where its ``upper()`` is the database's: ASCII names, on a
    database that upper-cases ASCII as Python does (not a Turkish locale's ``i``). Otherwise
    the trigger counts, as for any other insert.
    """
    distinct = Counter(names)  # a seed repeats names: each is cut into fragments once
    if not all(name.isascii() for name in distinct) or not _upper_is_pythons():
        yield
        return
    counts: Counter[str] = Counter()
    for name, users in distinct.items():
        for fragment in _fragments(name.upper()):
            counts[fragment] += users
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('leaderboard.name_fragments', 'counted', true)")
        try:
            yield
        finally:
            cursor.execute("SELECT set_config('leaderboard.name_fragments', '', true)")
        cursor.execute(
            "SELECT users_add_name_fragments(%s::text[], %s::integer[])",
            [list(counts), list(counts.values())],
        )


def _fragments(name: str) -> set[str]:
    """Each distinct fragment once, as the trigger counts them ("HANNAH" has AN twice)."""
    return {
        name[start : start + length]
        for length in LENGTHS
        for start in range(len(name) - length + 1)
    }


def _upper_is_pythons() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT upper(%s)", [string.ascii_lowercase])
        row = cursor.fetchone()
    return row is not None and row[0] == string.ascii_uppercase
