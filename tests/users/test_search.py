"""`?search=`: names containing the text in any case, in board order, with ranks and pages."""

import io
import threading

import pytest
from django.core.management import call_command
from django.db import connection
from rest_framework.test import APIClient

from leaderboard.transactions import atomic
from users import name_fragments
from users.bulk import NewUser, users_load
from users.factories import UserFactory
from users.models import User
from users.services import user_create, user_delete, user_restore, user_update, users_bulk_create
from users.upkeep import leaderboard_rebuild

# The index follows commits (on_commit), so these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL keeps the fragment counts"
)


def found(client: APIClient, text: str, **params: int) -> tuple[int, list[tuple]]:
    query: dict[str, str | int] = {"search": text, **params}
    response = client.get("/api/users/", query)
    assert response.status_code == 200, response.content
    body = response.json()
    return body["count"], [(u["name"], u["points"], u["rank"]) for u in body["results"]]


def make_board() -> None:
    for name, points in [
        ("Ann Lee", 5),
        ("Joanna Smith", 9),
        ("Bob Stone", 7),
        ("DANNY Roe", 5),
        ("Hannah Ma", 0),
    ]:
        UserFactory(name=name, points=points)


def test_search_matches_any_part_of_the_name_in_any_case_in_board_order_with_ranks(api):
    make_board()

    # Ranks are the board's: Bob's 7 points stay ahead of Ann's and Danny's 5.
    assert found(api, "aNn") == (
        4,
        [("Joanna Smith", 9, 1), ("Ann Lee", 5, 3), ("DANNY Roe", 5, 3), ("Hannah Ma", 0, 5)],
    )
    assert found(api, "ston") == (1, [("Bob Stone", 7, 2)])
    assert found(api, "y r") == (1, [("DANNY Roe", 5, 3)])
    assert found(api, "zz") == (0, [])


def test_search_pages_like_the_board(api):
    make_board()

    first = api.get("/api/users/", {"search": "an", "limit": 2}).json()
    second = api.get(first["next"]).json()

    assert first["count"] == second["count"] == 4
    assert [u["name"] for u in first["results"] + second["results"]] == [
        "Joanna Smith",
        "Ann Lee",
        "DANNY Roe",
        "Hannah Ma",
    ]
    assert "search=an" in first["next"]
    assert second["next"] is None
    assert found(api, "an", offset=10) == (4, [])


def test_search_and_points_filter_together(api):
    make_board()

    assert found(api, "an", points=5) == (2, [("Ann Lee", 5, 3), ("DANNY Roe", 5, 3)])


@pytest.mark.parametrize("text", ["a", ""])
def test_fewer_than_two_characters_is_a_400_that_asks_for_two(api, text):
    response = api.get("/api/users/", {"search": text})

    assert response.status_code == 400
    assert response.json() == {"search": ["Type at least 2 characters to search."]}


def test_search_text_is_matched_literally(api):
    UserFactory(name="100% Fan", points=1)
    UserFactory(name="100 Fans", points=2)
    UserFactory(name="snake_case", points=3)
    UserFactory(name="snakeXcase", points=4)

    assert found(api, "0%") == (1, [("100% Fan", 1, 4)])
    assert found(api, "e_c") == (1, [("snake_case", 3, 2)])


def test_a_deleted_user_is_not_found_and_a_restored_one_is(writer, api):
    make_board()
    danny = User.objects.get(name="DANNY Roe")

    assert writer.delete(f"/api/users/{danny.pk}/").status_code == 204
    assert found(api, "ann")[0] == 3

    user_restore(user_id=danny.pk)
    assert found(api, "ann")[0] == 4


def test_search_reads_the_database_when_redis_is_down(disposable_redis, api):
    make_board()
    leaderboard_rebuild()
    expected = found(api, "ann")

    disposable_redis.stop()

    assert found(api, "ann") == expected
    assert found(api, "an", limit=1, offset=3) == (4, [("Hannah Ma", 0, 5)])


def names_kept_for_search() -> list[tuple[int, str]]:
    """The names PostgreSQL keeps beside the users for the trigram index (users 0009)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT user_id, name FROM users_name_search ORDER BY user_id")
        return cursor.fetchall()


def assert_counts_match_names() -> None:
    """Every fragment's kept count equals a count of the names that contain it, and the names
    kept for the trigram index are exactly the live users' own."""
    live = User.objects.alive()
    names = list(live.values_list("name", flat=True))
    fragments = {n[i : i + k] for n in names for k in (2, 3) for i in range(len(n) - k + 1)}
    for fragment in fragments | {"qq", "zzz"}:
        assert name_fragments.matches(fragment) == live.filter(name__icontains=fragment).count()
    assert names_kept_for_search() == list(live.order_by("pk").values_list("pk", "name"))


@on_postgresql
def test_the_counts_postgresql_keeps_follow_every_write(writer):
    UserFactory.create_batch(30)
    call_command("seed_users", count=40, stdout=io.StringIO(), stderr=io.StringIO())
    # Faker's names may hold these too (a "Bobby", a "Nabil").
    seeded = {text: name_fragments.matches(text) or 0 for text in ("bob", "nab")}
    ann = user_create(name="Ann Anders", age=30)
    bob = user_create(name="bob BOBBY", age=30)
    assert_counts_match_names()

    user_update(user_id=ann.id, name="Annabel Anders")
    user_update(user_id=bob.id, age=31)  # not a rename: counts unchanged
    user_delete(user_id=bob.id)
    assert_counts_match_names()
    assert name_fragments.matches("bob") == seeded["bob"]

    user_restore(user_id=bob.id)
    assert name_fragments.matches("BoB") == seeded["bob"] + 1
    assert name_fragments.matches("nab") == seeded["nab"] + 1
    assert_counts_match_names()

    call_command("flush", interactive=False)
    assert name_fragments.matches("an") == 0
    assert names_kept_for_search() == []


@on_postgresql
def test_a_bulk_load_counts_its_names_itself_or_leaves_them_to_the_trigger():
    people = [NewUser(name, "", 30, 0) for name in ("Ann Lee", "Zoë Ann", "ANNA", "Bo")]

    users_load(people[:1] + people[2:])  # ASCII: counted in Python
    users_load(people[1:2])  # not ASCII: counted by the trigger
    with atomic():
        users_load(people[:1])
        user_create(name="Ann Again", age=3)  # after a bulk load, in its transaction

    assert name_fragments.matches("ann") == 5
    assert name_fragments.matches("zo") == name_fragments.matches("Ë A") == 1
    assert_counts_match_names()


@on_postgresql
def test_postgresql_takes_a_rare_fragment_for_about_as_many_names_as_it_matches():
    # How many names a search's text matches decides its plan: taken for 3% of a million
    # users, 2,763 matches were joined by reading the whole table instead of by id (users
    # 0010). Here 90 of 30,090 names contain "jim": 0.3%, where 100 sampled names see 0% or 1%.
    users_load([NewUser(f"Alpha {i}", "", 30, 0) for i in range(15_000)])
    users_load([NewUser(f"Jim {i}", "", 30, 0) for i in range(90)])
    users_load([NewUser(f"Zed {i}", "", 30, 0) for i in range(15_000)])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE users_name_search")  # as autovacuum does after a load
        cursor.execute(
            "EXPLAIN (FORMAT JSON) SELECT user_id FROM users_name_search "
            "WHERE UPPER(name) LIKE UPPER('%jim%')"
        )
        estimate = cursor.fetchone()[0][0]["Plan"]["Plan Rows"]

    assert 45 <= estimate <= 180


@on_postgresql
def test_concurrent_creates_and_renames_keep_the_counts_exact():
    def work(n: int) -> None:
        try:
            for i in range(8):
                user = user_create(name=f"Anna Hannah {n}-{i}", age=20)
                user_update(user_id=user.id, name=f"Joanna {n}-{i}")
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert name_fragments.matches("ann") == 48
    assert name_fragments.matches("nah") == 0
    assert_counts_match_names()


@pytest.mark.parametrize("limit", [1, 3, 50])
@pytest.mark.parametrize("text", ["son", "ja", "an", "jay", "zz"])
def test_every_page_of_every_search_is_the_boards_order(api, text, limit):
    """On PostgreSQL a page comes from a walk down the board or from sorting the matches,
    whichever reads less; both must give what the board gives."""
    names = ["Jay Son", "Ann Jason", "Bo Lee", "Hanna Day", "Al Ma"]
    users_bulk_create(
        [User(name=f"{names[i % 5]} {i}", age=30, points=(i * 7) % 23) for i in range(120)]
    )
    board = [
        (u["name"], u["points"], u["rank"])
        for u in api.get("/api/users/", {"limit": 500}).json()["results"]
    ]
    matching = [row for row in board if text in row[0].lower()]

    for offset in range(0, len(matching) + limit, limit):
        assert found(api, text, offset=offset, limit=limit) == (
            len(matching),
            matching[offset : offset + limit],
        )
