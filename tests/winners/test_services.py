from datetime import UTC, datetime, timedelta

import pytest

from users.factories import UserFactory
from users.models import User
from users.services import points_change, user_delete
from winners.models import Winner
from winners.services import Outcome, slot_start, winner_declare

pytestmark = pytest.mark.django_db(transaction=True)

NOON = datetime(2026, 11, 27, 12, 3, 41, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "slot"),
    [
        ("12:00:00", "12:00"),
        ("12:03:41", "12:00"),
        ("12:04:59.999999", "12:00"),
        ("12:05:00", "12:05"),
        ("23:59:59", "23:55"),
    ],
)
def test_slots_align_to_the_clock(moment, slot):
    at = datetime.fromisoformat(f"2026-11-27T{moment}+00:00")
    assert slot_start(at) == datetime.fromisoformat(f"2026-11-27T{slot}:00+00:00")


def test_slots_are_utc_whatever_the_zone_of_the_moment():
    nepal = datetime(2026, 11, 27, 17, 51, tzinfo=UTC).astimezone(
        datetime.fromisoformat("2026-01-01T00:00+05:45").tzinfo
    )
    assert slot_start(nepal) == datetime(2026, 11, 27, 17, 50, tzinfo=UTC)


def test_a_unique_top_is_stored_with_its_points_and_time():
    UserFactory(points=5)
    top = UserFactory(points=8)

    decision = winner_declare(at=NOON, now=NOON)

    assert decision.outcome == Outcome.DECLARED
    assert list(Winner.objects.values_list("user", "points", "won_at", "slot")) == [
        (top.pk, 8, NOON, datetime(2026, 11, 27, 12, 0, tzinfo=UTC)),
    ]
    assert str(decision) == (
        f'Slot 2026-11-27 12:00 UTC: "{top.name}" (user {top.pk}) wins with 8 points.'
    )


def test_a_tie_at_the_top_stores_nothing():
    UserFactory(points=8)
    UserFactory(points=8)
    UserFactory(points=2)

    assert winner_declare(at=NOON, now=NOON).outcome == Outcome.TIE
    assert not Winner.objects.exists()


def test_an_empty_board_stores_nothing():
    assert winner_declare(at=NOON, now=NOON).outcome == Outcome.EMPTY
    assert not Winner.objects.exists()


def test_deleted_users_are_ignored():
    gone = UserFactory(points=50)
    UserFactory(points=8)
    alone = UserFactory(points=9)
    user_delete(user_id=gone.pk)

    winner_declare(at=NOON, now=NOON)

    assert Winner.objects.get().user_id == alone.pk


def test_only_deleted_users_means_an_empty_board():
    user_delete(user_id=UserFactory(points=5).pk)
    assert winner_declare(at=NOON, now=NOON).outcome == Outcome.EMPTY


def test_one_winner_per_slot_and_the_next_slot_can_store_another():
    first = UserFactory(points=3)
    winner_declare(at=NOON, now=NOON)
    second = UserFactory(points=1)
    points_change(user_id=second.pk, delta=10)

    again = winner_declare(at=NOON + timedelta(seconds=30), now=NOON + timedelta(seconds=30))
    later = winner_declare(at=NOON + timedelta(minutes=5), now=NOON + timedelta(minutes=5))

    assert again.outcome == Outcome.ALREADY_DECLARED
    assert str(again) == (
        f'Slot 2026-11-27 12:00 UTC: already won by "{first.name}" (user {first.pk}) with 3 points.'
    )
    assert later.outcome == Outcome.DECLARED
    assert list(Winner.objects.order_by("slot").values_list("user", flat=True)) == [
        first.pk,
        second.pk,
    ]


def test_a_tick_that_arrives_after_its_slot_is_dropped_not_credited_to_the_next():
    UserFactory(points=8)
    tick = datetime(2026, 11, 27, 21, 39, 56, tzinfo=UTC)  # sent in the 21:35 slot

    late = winner_declare(at=tick, now=datetime(2026, 11, 27, 21, 40, 3, tzinfo=UTC))

    assert late.outcome == Outcome.LATE
    assert "Slot 2026-11-27 21:35 UTC: the tick arrived at 21:40:03 UTC" in str(late)
    assert not Winner.objects.exists()


def test_a_tick_run_late_within_its_slot_wins_that_slot():
    top = UserFactory(points=8)
    tick = datetime(2026, 11, 27, 21, 35, 0, 50_000, tzinfo=UTC)
    looked = datetime(2026, 11, 27, 21, 39, 59, tzinfo=UTC)

    winner_declare(at=tick, now=looked)

    assert list(Winner.objects.values_list("user", "slot", "won_at")) == [
        (top.pk, datetime(2026, 11, 27, 21, 35, tzinfo=UTC), looked)
    ]


def test_a_name_cannot_forge_a_line_of_the_decision():
    User.objects.filter(pk=UserFactory(points=9).pk).update(
        name='Eve wins with 999 points.\nSlot 2026-11-27 12:05 UTC: "Mallory"'
    )

    said = str(winner_declare(at=NOON, now=NOON))

    assert said.count("\n") == 0
    assert said.startswith('Slot 2026-11-27 12:00 UTC: "Eve wins with 999 points.\\nSlot')
