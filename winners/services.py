"""Declaring the winner of a 5-minute slot."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError
from django.utils import timezone

from leaderboard.transactions import atomic, retried
from users.models import User

from .models import Winner

SLOT = timedelta(minutes=5)


class Outcome(enum.StrEnum):
    DECLARED = "declared"
    TIE = "tie"
    EMPTY = "empty"
    ALREADY_DECLARED = "already declared"
    LATE = "late"


def _points(points: int) -> str:
    return f"{points:,} point{'' if points == 1 else 's'}"


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    slot: datetime
    winner: Winner | None = None
    looked_at: datetime | None = None

    def __str__(self) -> str:
        slot = f"Slot {self.slot:%Y-%m-%d %H:%M} UTC"
        # Names are quoted (JSON escapes): whatever a name holds, it cannot end this line or
        # pass for another.
        match self.outcome:
            case Outcome.DECLARED:
                assert self.winner is not None
                return f"{slot}: {_who(self.winner)} wins with {_points(self.winner.points)}."
            case Outcome.ALREADY_DECLARED:
                assert self.winner is not None
                return (
                    f"{slot}: already won by {_who(self.winner)} with "
                    f"{_points(self.winner.points)}."
                )
            case Outcome.TIE:
                return f"{slot}: a tie for the highest points, so no winner."
            case Outcome.EMPTY:
                return f"{slot}: nobody is on the board, so no winner."
            case Outcome.LATE:
                assert self.looked_at is not None
                return (
                    f"{slot}: the tick arrived at {self.looked_at:%H:%M:%S} UTC, after its slot "
                    "was over; dropped."
                )


def _who(winner: Winner) -> str:
    return f"{json.dumps(winner.user.name)} (user {winner.user.pk})"


def slot_start(moment: datetime) -> datetime:
    """The start of the 5-minute slot holding ``moment``, aligned to the UTC clock."""
    moment = moment.astimezone(UTC)
    return moment.replace(minute=moment.minute - moment.minute % 5, second=0, microsecond=0)


@retried  # a second scheduler's insert of the slot, still open, aborts this one on MongoDB
def winner_declare(*, at: datetime, now: datetime | None = None) -> Decision:
    """Look at the board now and store a winner for the slot of ``at`` (when the tick was
    scheduled) if exactly one user has the highest points. At most one winner per slot,
    however often or wherever this runs; a tick that arrives after its slot is over is
    dropped rather than credited to a later slot."""
    slot = slot_start(at)
    now = now or timezone.now()
    if now >= slot + SLOT:
        return Decision(Outcome.LATE, slot, looked_at=now)
    top_two = list(User.objects.alive().in_leaderboard_order()[:2])
    if not top_two:
        return Decision(Outcome.EMPTY, slot)
    if len(top_two) == 2 and top_two[0].points == top_two[1].points:
        return Decision(Outcome.TIE, slot)
    leader = top_two[0]
    try:
        with atomic():
            winner = Winner.objects.create(user=leader, points=leader.points, won_at=now, slot=slot)
    except IntegrityError:  # the slot's UniqueConstraint: someone declared it first
        holder = Winner.objects.select_related("user").get(slot=slot)
        return Decision(Outcome.ALREADY_DECLARED, slot, holder)
    return Decision(Outcome.DECLARED, slot, winner)
