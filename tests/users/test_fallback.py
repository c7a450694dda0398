"""With Redis away the service keeps serving from the database; the index comes back whole."""

import subprocess
import sys
import time

import pytest
from rest_framework.test import APIClient

from tests.conftest import (
    ROOT,
    assert_index_matches_db,
    free_port,
    redis_unreachable,
    subprocess_env,
)
from users import ranking
from users.bulk import NewUser, users_load
from users.factories import UserFactory
from users.services import points_change
from users.upkeep import leaderboard_rebuild, leaderboard_sweep

pytestmark = pytest.mark.django_db(transaction=True)


def board(client: APIClient, query: str = "") -> list[tuple[str, int, int]]:
    results = client.get(f"/api/users/{query}").json()["results"]
    return [(u["name"], u["points"], u["rank"]) for u in results]


def make_board() -> list:
    return [
        UserFactory(name=name, points=points)
        for name, points in [("a", 9), ("b", 7), ("c", 7), ("d", 3)]
    ]


def test_reads_and_writes_with_redis_stopped_then_the_index_catches_up(
    disposable_redis, writer, api
):
    users = make_board()
    leaderboard_rebuild()
    expected = [("a", 9, 1), ("b", 7, 2), ("c", 7, 2), ("d", 3, 4)]
    assert board(api) == expected

    disposable_redis.stop()

    assert board(api) == expected
    assert board(api, "?points=7") == expected[1:3]
    assert board(api, "?limit=2&offset=1") == expected[1:3]
    assert api.get(f"/api/users/{users[2].pk}/").json()["rank"] == 2
    groups = api.get("/api/users/grouped-by-score/").json()
    assert [(g["points"], g["count"]) for g in groups["results"]] == [(9, 1), (7, 2), (3, 1)]
    response = writer.post(f"/api/users/{users[3].pk}/increment/", {"by": 6}, format="json")
    assert (response.status_code, response.json()["rank"]) == (200, 1)
    assert writer.post("/api/users/", {"name": "e", "age": 5}, format="json").status_code == 201
    assert writer.delete(f"/api/users/{users[1].pk}/").status_code == 204
    assert board(api) == [("a", 9, 1), ("d", 9, 1), ("c", 7, 3), ("e", 0, 4)]
    assert api.get("/readyz").json() == {
        "database": "ok",
        "redis": "unavailable",
        "index": "unavailable",
    }

    disposable_redis.start()  # back, with the index it held before (its append-only file)
    # The index missed this process's writes: the process applies them again at its first
    # contact, and the sweep applies every marked row, whoever wrote it.
    assert board(api) == [("a", 9, 1), ("d", 9, 1), ("c", 7, 3), ("e", 0, 4)]

    leaderboard_sweep()  # what beat runs every second

    assert api.get("/readyz").json()["index"] == "ready"
    assert board(api) == [("a", 9, 1), ("d", 9, 1), ("c", 7, 3), ("e", 0, 4)]
    assert_index_matches_db()


def test_redis_back_empty_gets_the_index_built_whole(disposable_redis, api):
    make_board()
    leaderboard_rebuild()
    disposable_redis.stop()
    disposable_redis.wipe()
    disposable_redis.start()

    assert board(api)[0] == ("a", 9, 1)  # from the database meanwhile
    assert api.get("/readyz").json()["index"] == "missing"
    assert isinstance(leaderboard_sweep(), ranking.Rebuilt)
    assert_index_matches_db()


def test_a_write_the_index_missed_is_applied_from_its_mark(disposable_redis, api):
    users = make_board()
    leaderboard_rebuild()

    with redis_unreachable():
        points_change(user_id=users[3].pk, delta=10)
    ranking.health.forget()  # and the process dies: only the row's mark knows of the write

    assert ranking.snapshot()[0] != (users[3].pk, 13)  # the index lacks it, for now
    swept = leaderboard_sweep()  # the marked rows only, not a rebuild
    assert isinstance(swept, ranking.Swept)
    assert (swept.rows, swept.cleared, swept.backlog) == (4, 4, 0)  # the four made, d since
    assert api.get("/readyz").json()["index"] == "ready"
    assert board(api)[0] == ("d", 13, 1)
    assert_index_matches_db()


def test_a_process_that_missed_its_write_reads_it_and_applies_it_itself(disposable_redis, api):
    users = make_board()
    leaderboard_rebuild()

    with redis_unreachable():
        points_change(user_id=users[3].pk, delta=10)
        assert board(api)[0] == ("d", 13, 1)  # its own write, from the database

    # Its next contact with Redis applies what it kept, before anything else.
    assert board(api)[0] == ("d", 13, 1)
    assert ranking.snapshot()[0] == (users[3].pk, 13)


def test_a_bulk_load_that_missed_redis_is_applied_at_the_next_contact(disposable_redis, api):
    make_board()
    leaderboard_rebuild()

    with redis_unreachable():
        users_load([NewUser("z", "1 Road", 30, 50)])

    assert board(api)[0] == ("z", 50, 1)
    assert ranking.snapshot()[0][1] == 50


@pytest.mark.celery
def test_an_index_found_empty_is_rebuilt_by_the_worker(disposable_redis, celery_worker, api):
    make_board()
    assert ranking.snapshot() is None  # a fresh Redis: nothing built yet

    assert board(api)[0] == ("a", 9, 1)  # from the database; the read queues a rebuild

    deadline = time.monotonic() + 20
    while ranking.snapshot() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert_index_matches_db()


def test_a_broker_that_does_not_answer_holds_up_one_read_not_every_one(disposable_redis):
    make_board()  # and no index: each read that finds none asks the worker for a rebuild
    reads = "for _ in range(3): print(board_page(offset=0, limit=10)[0])"
    done = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "--no-imports",
            "-c",
            f"from users.selectors import board_page\n{reads}",
        ],
        cwd=ROOT,
        env={
            **subprocess_env(),
            "REDIS_URL": disposable_redis.url,
            "CELERY_BROKER_URL": f"amqp://guest:guest@127.0.0.1:{free_port()}//",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.stdout.split() == ["4", "4", "4"], done.stderr  # from the database
    assert done.stderr.count("Could not ask for a rebuild") == 1
