"""`/api/users/{id}/around/`: a user and their neighbours by position, with ranks."""

import pytest
from rest_framework.test import APIClient

from tests.conftest import absent_id, wire_id
from users.models import User
from users.services import users_bulk_create
from users.upkeep import leaderboard_rebuild

# The index follows commits (on_commit), so these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)

# Created in this order; equal points keep it.
BOARD = [("a", 9), ("b", 8), ("c", 8), ("d", 8), ("e", 6), ("f", 5), ("g", 5), ("h", 2)]
#         rank 1    2         2         2         5         6         6         8


def make_board() -> dict[str, int | str]:
    """The board above; each user's id as the API writes it."""
    users = users_bulk_create([User(name=name, age=30, points=p) for name, p in BOARD])
    return {user.name: wire_id(user.pk) for user in users}


def around(client: APIClient, user_id: int | str, **params: int) -> dict:
    response = client.get(f"/api/users/{user_id}/around/", params)
    assert response.status_code == 200, response.content
    return response.json()


def names_and_ranks(users: list[dict]) -> list[tuple[str, int]]:
    return [(u["name"], u["rank"]) for u in users]


def test_the_user_and_their_neighbours_by_position_in_board_order(api):
    ids = make_board()

    body = around(api, ids["d"], size=2)

    assert body["user"] == {
        "id": ids["d"],
        "name": "d",
        "age": 30,
        "address": "",
        "points": 8,
        "rank": 2,
    }
    # Position, not rank: b and c tie with d but come before it.
    assert names_and_ranks(body["above"]) == [("b", 2), ("c", 2)]
    assert names_and_ranks(body["below"]) == [("e", 5), ("f", 6)]


def test_five_each_side_by_default_and_fewer_at_the_ends(api):
    ids = make_board()

    top = around(api, ids["a"])
    bottom = around(api, ids["g"])

    assert (top["above"], names_and_ranks(top["below"])) == (
        [],
        [("b", 2), ("c", 2), ("d", 2), ("e", 5), ("f", 6)],
    )
    assert names_and_ranks(bottom["above"]) == [("b", 2), ("c", 2), ("d", 2), ("e", 5), ("f", 6)]
    assert names_and_ranks(bottom["below"]) == [("h", 8)]


def test_the_neighbourhood_follows_points_changes(writer, api):
    ids = make_board()

    writer.post(f"/api/users/{ids['h']}/increment/", {"by": 7}, format="json")

    body = around(api, ids["h"], size=1)
    assert names_and_ranks(body["above"]) == [("a", 1)]
    # 9 points, tied with a, who came first.
    assert (body["user"]["rank"], names_and_ranks(body["below"])) == (1, [("b", 3)])


@pytest.mark.parametrize("size", ["0", "51", "-1", "x", "2.5", ""])
def test_a_size_outside_1_to_50_is_a_400_that_says_what_is_allowed(api, size):
    ids = make_board()

    response = api.get(f"/api/users/{ids['a']}/around/", {"size": size})

    assert response.status_code == 400
    assert response.json() == {"size": ["size must be a whole number from 1 to 50."]}


def test_the_largest_size_is_fine(api):
    ids = make_board()

    body = around(api, ids["e"], size=50)

    assert [len(body["above"]), len(body["below"])] == [4, 3]


def test_an_unknown_or_deleted_user_is_404(writer, api):
    ids = make_board()
    writer.delete(f"/api/users/{ids['c']}/")

    for user_id in (ids["c"], absent_id(), "nope"):
        response = api.get(f"/api/users/{user_id}/around/")
        assert response.status_code == 404
        assert response.json() == {"detail": "No such user."}
    assert names_and_ranks(around(api, ids["d"], size=1)["above"]) == [("b", 2)]


def test_the_database_answers_the_same_when_redis_is_down(disposable_redis, api):
    ids = make_board()
    leaderboard_rebuild()
    expected = [around(api, ids[name], size=3) for name in "adh"]

    disposable_redis.stop()

    assert [around(api, ids[name], size=3) for name in "adh"] == expected
