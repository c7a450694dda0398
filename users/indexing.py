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


class Handover:
    """What the index answered once it had a hand-over's entries: ``rank`` is a single
    entry's rank when reads may trust it. None until then (the transaction has not
    committed, or the hand-over runs elsewhere), for several entries, and when Redis was
    away."""

    rank: int | None = None


def index_on_commit(
    entries: list[ranking.Entry],
    *,
    pending: PendingRange | None = None,
    run: Callable[[Callable[[], object]], object] = at_once,
) -> Handover:
    """Once the current transaction commits (at once, outside one), give ``entries`` to the
    index; then clear the bulk load's ``pending`` range if the index holds them for good.
    ``run`` runs the hand-over (at once, or on a thread of the caller's)."""
    handover = Handover()

    def hand_over() -> None:
        put = ranking.put(entries)
        handover.rank = put.rank
        if put.held and pending is not None:
            ranges_clear([pending])

    transaction.on_commit(lambda: run(hand_over))
    return handover
