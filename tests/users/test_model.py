"""A model of the leaderboard, checked against the service after every step by hypothesis:
random creates, point changes, deletes, restores, age edits, rebuilds, writes that miss
the index and repairs. After each step the API's board, ranks and groups equal the model's,
and the index equals the database."""

from collections import defaultdict

import pytest
from django_redis import get_redis_connection
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule
from rest_framework.test import APIClient

from tests.conftest import assert_index_matches_db, redis_unreachable, wire_id
from users import ranking, services
from users.models import User
from users.upkeep import leaderboard_rebuild, leaderboard_sweep

pytestmark = pytest.mark.django_db(transaction=True)


class Leaderboard(RuleBasedStateMachine):
    users = Bundle("users")

    def __init__(self) -> None:
        super().__init__()
        User.objects.all().delete()
        get_redis_connection("default").flushdb()
        ranking.rebuild([], backlog=list)
        self.points: dict[int | str, int] = {}
        self.ages: dict[int | str, int] = {}
        self.live: set[int | str] = set()
        self.api = APIClient()

    @rule(target=users, age=st.integers(0, 150))
    def create(self, age: int) -> int | str:
        user = services.user_create(name="someone", age=age)
        pk = wire_id(user.id)  # as the API writes it; on MongoDB its hex sorts like the ObjectId
        self.points[pk], self.ages[pk] = 0, age
        self.live.add(pk)
        return pk

    @rule(user=users, delta=st.integers(-5, 5).filter(bool), missed=st.booleans())
    def change(self, user: int | str, delta: int, missed: bool) -> None:
        try:
            with redis_unreachable() if missed else _nothing():
                services.points_change(user_id=user, delta=delta)
        except services.PointsOutOfRange:
            assert self.points[user] + delta < 0
        except User.DoesNotExist:
            assert user not in self.live
        else:
            self.points[user] += delta
        if missed:
            leaderboard_sweep()  # what beat does within 10 s, or the miss's own request

    @rule(user=users)
    def delete(self, user: int) -> None:
        try:
            services.user_delete(user_id=user)
        except User.DoesNotExist:
            assert user not in self.live
        self.live.discard(user)

    @rule(user=users)
    def restore(self, user: int) -> None:
        try:
            services.user_restore(user_id=user)
        except User.DoesNotExist:
            assert user in self.live
        self.live.add(user)

    @rule(user=users, age=st.integers(0, 150))
    def edit_age(self, user: int | str, age: int) -> None:
        try:
            services.user_update(user_id=user, age=age)
        except User.DoesNotExist:
            assert user not in self.live
        else:
            self.ages[user] = age

    @rule()
    def rebuild(self) -> None:
        leaderboard_rebuild(chunk_size=3)

    @invariant()
    def the_board_and_the_groups_are_the_models(self) -> None:
        order = sorted(self.live, key=lambda pk: (-self.points[pk], pk))
        board = self.api.get("/api/users/?limit=500").json()["results"]
        assert [(u["id"], u["points"]) for u in board] == [(pk, self.points[pk]) for pk in order]
        assert [u["rank"] for u in board] == [
            1 + sum(self.points[o] > self.points[pk] for o in self.live) for pk in order
        ]
        groups: defaultdict[int, list[int | str]] = defaultdict(list)
        for pk in order:
            groups[self.points[pk]].append(pk)
        answer = self.api.get("/api/users/grouped-by-score/?limit=500&users_per_group=3").json()
        assert answer["count"] == len(groups)
        assert [
            (g["points"], g["count"], g["average_age"], [u["id"] for u in g["users"]])
            for g in answer["results"]
        ] == [
            (p, len(pks), round(sum(self.ages[pk] for pk in pks) / len(pks), 2), pks[:3])
            for p, pks in sorted(groups.items(), reverse=True)
        ]

    @invariant()
    def the_index_is_the_database(self) -> None:
        assert_index_matches_db()


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


TestLeaderboard = Leaderboard.TestCase
TestLeaderboard.settings = settings(
    max_examples=25,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
