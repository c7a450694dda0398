"""Searching names: users whose name contains a text, in board order, with ranks.

On PostgreSQL a short text matches a large share of the board, so the plan matters: see the
README's Architecture section. SQLite and MongoDB scan.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from django.db import connection
from django.db.models import Count, F, Window
from django.db.models.expressions import RawSQL

from leaderboard.db import planned

from . import name_fragments, ranking
from .models import User, UserQuerySet
from .selectors import RankedUser, fallback, with_ranks


def search_page(
    *, text: str, offset: int, limit: int, points: int | None = None
) -> tuple[int, list[RankedUser]]:
    """Users whose name contains ``text`` (any case), in board order.

    On PostgreSQL, a 2- or 3-character fragment's count is kept by triggers
    (``name_fragments``), and its page comes from the shorter of two reads: walking the board's
    index until enough names match, or sorting every match the trigram index finds (migration
    users 0009). Longer fragments, a points filter and other databases count and sort the
    matches (SQLite and MongoDB scan)."""
    live = User.objects.alive() if points is None else User.objects.alive().filter(points=points)
    users = live.filter(name__icontains=text)
    total = None if points is not None else name_fragments.matches(text)
    if total is not None:
        if offset >= total:
            return total, []
        walk = _walk_is_shorter(text=text, matches=total, wanted=offset + limit)
        in_order = users.in_leaderboard_order() if walk else _by_points(live, text)
        with fallback(), _planned_for_search():
            return total, with_ranks(list(in_order[offset : offset + limit]))
    in_order = _by_points(live, text)
    with fallback(), _planned_for_search():
        if not connection.features.supports_over_clause:  # MongoDB
            return users.count(), with_ranks(list(in_order[offset : offset + limit]))
        # The count rides along with the page (COUNT(*) OVER ()), so the matches are read once.
        page = list(in_order.annotate(total=Window(Count("pk")))[offset : offset + limit])
        total = page[0].total if page else (users.count() if offset else 0)  # type: ignore[attr-defined]
    return total, with_ranks(page)


def _by_points(users: UserQuerySet, text: str) -> UserQuerySet:
    """The users among ``users`` whose name contains ``text``, sorted like the board."""
    if connection.vendor == "postgresql" and len(text) >= 3:
        # Found through the trigram index, on the names' own table (migration users 0009),
        # which points changes never write to: the same match as ``icontains``, made there.
        # A shorter text has no trigram to look up.
        pattern = f"%{connection.ops.prep_for_like_query(text)}%"
        matches = users.filter(pk__in=RawSQL(_NAMED, [pattern]))  # noqa: S611 - a constant, bound
    else:
        matches = users.filter(name__icontains=text)
    # Ordered by `points + 0`: sorted like the board, but without the board's index, which
    # PostgreSQL would otherwise walk hoping to meet matches early, all of it for a rare name.
    return matches.order_by((F("points") + 0).desc(), "pk")


_NAMED = "SELECT user_id FROM users_name_search WHERE UPPER(name) LIKE UPPER(%s)"


def _planned_for_search() -> AbstractContextManager[None]:
    """How PostgreSQL should plan a search, inside the block:

    - In one process: it guesses that a LIKE keeps a tenth of the rows, and for that many it
      would start parallel workers, which cost more than the few thousand rows a search reads
      (46 ms against 6 ms for a sort of 1,300 matches).
    - Rows fetched by id cost what the board's cached pages cost, as on an SSD, not the
      default's spinning disk: else it prices joining a few thousand matches to their rows
      one by one above reading the whole table (176 ms against 48 ms for 6,474 matches).
    """
    return planned(max_parallel_workers_per_gather="0", random_page_cost="1.1")


def _walk_is_shorter(*, text: str, matches: int, wanted: int) -> bool:
    """Whether walking the board to the ``wanted``-th match costs less than finding and
    sorting every match: the walk reads about ``wanted`` x board / ``matches`` rows."""
    if len(text) < 3:
        # No trigram to look up: finding the matches scans the table, which reads rows in
        # their order on disk, about three times as fast as the walk reads them.
        return 3 * wanted <= matches
    window = ranking.page(offset=0, limit=0)
    return window is not None and wanted * window.total <= SORTED_MATCH_ROWS * matches * matches


# A match found through the trigram index, joined to its row and sorted costs about as much as
# this many rows of the walk: at 1M users both took 9 ms for a fragment of 3,100 matches,
# where the walk reads 16,000 rows.
SORTED_MATCH_ROWS = 5
