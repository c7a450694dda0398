"""Declaring the winner of a 5-minute slot."""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction

from users.models import User

from .models import Winner

logger = logging.getLogger(__name__)

SLOT = timedelta(minutes=5)


class Outcome(enum.StrEnum):
    DECLARED = "declared"
    TIE = "tie"
    EMPTY = "empty"
    ALREADY_DECLARED = "already declared"


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    slot: datetime
    winner: Winner | None = None

    def __str__(self) -> str:
        slot = f"{self.slot:%Y-%m-%d %H:%M} UTC"
        match self.outcome:
            case Outcome.DECLARED:
                assert self.winner is not None
                points = self.winner.points
                noun = "point" if points == 1 else "points"
                return f"Slot {slot}: {self.winner.user.name} wins with {points} {noun}."
            case Outcome.TIE:
                return f"Slot {slot}: a tie for the highest points, so no winner."
            case Outcome.EMPTY:
                return f"Slot {slot}: nobody is on the board, so no winner."
            case Outcome.ALREADY_DECLARED:
                return f"Slot {slot}: a winner was already declared."


def slot_start(moment: datetime) -> datetime:
    """The start of the 5-minute slot holding ``moment``, aligned to the UTC clock."""
    moment = moment.astimezone(UTC)
    return moment.replace(minute=moment.minute - moment.minute % 5, second=0, microsecond=0)


def winner_declare(*, at: datetime) -> Decision:
    """Look at the board now and store a winner for the slot of ``at`` if exactly one user has
    the highest points. At most one winner per slot, however often or wherever this runs."""
    slot = slot_start(at)
    top_two = list(User.objects.alive().in_leaderboard_order()[:2])
    if not top_two:
        decision = Decision(Outcome.EMPTY, slot)
    elif len(top_two) == 2 and top_two[0].points == top_two[1].points:
        decision = Decision(Outcome.TIE, slot)
    else:
        leader = top_two[0]
        try:
            with transaction.atomic():
                winner = Winner.objects.create(
                    user=leader, points=leader.points, won_at=at, slot=slot
                )
        except IntegrityError:  # the slot's UniqueConstraint: someone declared it first
            decision = Decision(Outcome.ALREADY_DECLARED, slot)
        else:
            decision = Decision(Outcome.DECLARED, slot, winner)
    logger.info("%s", decision)
    return decision
