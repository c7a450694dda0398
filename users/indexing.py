"""Handing committed writes to the ranking index: the one place that does.

Every write has marked what it changed in the database (``users/backlog.py``), in the same
statement, so a hand-over that never arrives (a crash, a Redis blink) is applied by the sweep.
The index keeps whichever state of a user it sees with the highest version, so hand-overs may
arrive late, twice or out of order.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from . import ranking
from .backlog import ranges_clear
from .models import PendingRange


def at_once(job: Callable[[], object]) -> object:
    return job()


def index_on_commit(
    entries: list[ranking.Entry],
    *,
    pending: PendingRange | None = None,
    run: Callable[[Callable[[], object]], object] = at_once,
) -> None:
    """Once the current transaction commits, give ``entries`` to the index; then clear the
    bulk load's ``pending`` range if the index holds them for good. ``run`` runs the
    hand-over (at once, or on a thread of the caller's)."""

    def hand_over() -> None:
        if ranking.put(entries) and pending is not None:
            ranges_clear([pending])

    transaction.on_commit(lambda: run(hand_over))
