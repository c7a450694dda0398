"""The counts PostgreSQL keeps of live users' names by 2- and 3-character fragment.

Triggers keep them in step with every write (migration ``users 0006``), so a short search's
``count`` is a primary-key lookup instead of a pass over most of the table.
"""

from __future__ import annotations

import string
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from itertools import chain

from django.db import connection

LENGTHS = (2, 3)
# Names whose fragments a bulk load keeps, more than a seed's pool of names.
FRAGMENTED_NAMES_KEPT = 16_384


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
    if not all(map(str.isascii, names)) or not _upper_is_pythons():
        yield
        return
    # Counted in C (Counter over one chain of every name's fragments); a seed draws its names
    # from a pool, so each name is cut into fragments once, in _fragments.
    counts = Counter(chain.from_iterable(map(_fragments, names)))
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


@lru_cache(maxsize=FRAGMENTED_NAMES_KEPT)
def _fragments(name: str) -> tuple[str, ...]:
    """Each distinct fragment of ``name``, upper-cased, once, as the trigger counts them
    ("HANNAH" has AN twice). A tuple: a set's table would take several times its memory."""
    upper = name.upper()
    return tuple(
        {
            upper[start : start + length]
            for length in LENGTHS
            for start in range(len(upper) - length + 1)
        }
    )


def _upper_is_pythons() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT upper(%s)", [string.ascii_lowercase])
        row = cursor.fetchone()
    return row is not None and row[0] == string.ascii_uppercase
