"""The index belongs to one database: a fresh, flushed or restored database never reads the
index of the database that was there before, and its first read is already right. Each test
runs real `manage.py` processes on real databases and the test's Redis, and ends with every
read (board, detail, around, groups, search) equal to the database."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django_redis import get_redis_connection
from rest_framework.test import APIClient

from tests.agreement import differences
from tests.conftest import manage
from users import ranking
from users.factories import UserFactory
from users.services import user_create
from users.upkeep import leaderboard_sweep

pytestmark = pytest.mark.django_db(transaction=True)

MAKE_BOARD = (
    "from users.services import user_create, points_change\n"
    "from users.upkeep import leaderboard_sweep\n"
    "for name, points in [('Ada', 50), ('Bob', 10), ('Cy', 10)]:\n"
    "    points_change(user_id=user_create(name=name, age=30).id, delta=points)\n"
    "leaderboard_sweep()\n"
)
READS = "from tests.agreement import print_differences\nprint_differences()\n"


def shell(url: str, code: str, **env: str) -> dict:
    """Run ``code`` in a `manage.py shell` on the database at ``url``; its last line of
    output, as JSON."""
    done = manage("shell", "--no-imports", "-c", code, env={"DATABASE_URL": url, **env})
    return json.loads(done.stdout.strip().splitlines()[-1])


def index_tokens() -> set[str]:
    """The databases whose index keys are in Redis (retired marks aside)."""
    redis = get_redis_connection("default")
    return {
        key.decode().split(":")[1]
        for key in redis.scan_iter(match="leaderboard:*:*")
        if not key.decode().endswith(":retired")
    }


def test_a_fresh_database_beside_an_old_index_never_reads_it(fresh_database):
    old, new = fresh_database(), fresh_database()
    manage("migrate", "-v0", env={"DATABASE_URL": old})
    others = index_tokens()  # the test database's own
    shell(old, MAKE_BOARD + "print('{}')", LEADERBOARD_INDEX_IDLE_SECONDS="1")
    (old_token,) = index_tokens() - others
    manage("migrate", "-v0", env={"DATABASE_URL": new})

    first = shell(
        new,
        "from users.services import user_create\n"
        "import json; print(json.dumps({'rank': user_create(name='Dee', age=20).rank}))",
    )
    reads = shell(new, READS)

    assert first == {"rank": 1}  # on a board of one, not below the old database's users
    assert reads["differences"] == []
    assert reads["readyz"]["index"] != "ready"  # nothing built for it yet: the database answers
    # Its own index, once built; the old one's keys go once no sweep keeps them alive.
    shell(new, "from users.upkeep import leaderboard_sweep\nleaderboard_sweep()\nprint('{}')")
    redis = get_redis_connection("default")
    deadline = time.monotonic() + 10
    while redis.exists(f"leaderboard:{old_token}:alive") and time.monotonic() < deadline:
        time.sleep(0.1)
    after = shell(new, "from users.upkeep import leaderboard_sweep\nleaderboard_sweep()\n" + READS)
    assert after["differences"] == []
    assert after["readyz"]["index"] == "ready"
    assert old_token not in index_tokens()


def test_flush_retires_the_index_so_no_process_reads_the_old_board(api):
    UserFactory.create_batch(3, scored=True)
    leaderboard_sweep()
    assert api.get("/readyz").json()["index"] == "ready"  # this process knows the old index

    manage("flush", "--no-input")
    created = user_create(name="Eve", age=41)

    assert created.rank == 1
    assert differences() == []
    leaderboard_sweep()  # builds the emptied database's own index
    assert api.get("/readyz").json()["index"] == "ready"
    assert differences() == []
    assert [u["name"] for u in api.get("/api/users/").json()["results"]] == ["Eve"]


def _dump(url: str, into: Path) -> None:
    if connection.vendor == "sqlite":
        shutil.copyfile(url.removeprefix("sqlite:///"), into)
    elif connection.vendor == "postgresql":
        subprocess.run(["pg_dump", "-Fc", "-f", str(into), url], check=True, timeout=60)
    else:  # MongoDB: every document of every collection, in BSON
        import bson
        import pymongo

        client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(url)
        with client:
            database = client.get_default_database()
            dump = {name: list(database[name].find()) for name in database.list_collection_names()}
        into.write_bytes(bson.encode({"collections": dump}))


def _restore(url: str, dump: Path) -> None:
    if connection.vendor == "sqlite":
        shutil.copyfile(dump, url.removeprefix("sqlite:///"))
    elif connection.vendor == "postgresql":
        subprocess.run(
            ["pg_restore", "--clean", "--if-exists", "-d", url, str(dump)], check=True, timeout=60
        )
    else:
        import bson
        import pymongo

        client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(url)
        with client:
            database = client.get_default_database()
            for name, documents in bson.decode(dump.read_bytes())["collections"].items():
                database[name].delete_many({})
                if documents:
                    database[name].insert_many(documents)


def test_a_database_restored_from_an_older_dump_gets_an_index_of_its_own(fresh_database, tmp_path):
    url = fresh_database()
    manage("migrate", "-v0", env={"DATABASE_URL": url})
    shell(url, MAKE_BOARD + "print('{}')")
    dump = tmp_path / "before.dump"
    _dump(url, dump)
    # Later writes, which the index holds and the dump does not.
    shell(
        url,
        "from users.models import User\nfrom users.services import points_change\n"
        "from users.upkeep import leaderboard_sweep\n"
        "points_change(user_id=User.objects.get(name='Bob').pk, delta=1000)\n"
        "leaderboard_sweep()\nprint('{}')",
    )

    _restore(url, dump)
    reads = shell(url, READS)

    assert reads["differences"] == []  # Ada leads again, with Bob at 10, as the dump has it
    after = shell(url, "from users.upkeep import leaderboard_sweep\nleaderboard_sweep()\n" + READS)
    assert after["differences"] == []
    assert after["readyz"]["index"] == "ready"


def test_a_process_holding_a_retired_index_reads_the_new_one(api):
    UserFactory(name="Old", points=5)
    leaderboard_sweep()
    assert APIClient().get("/readyz").json()["index"] == "ready"
    before = ranking.health.keys().token

    manage("flush", "--no-input")  # another process empties the database

    assert api.get("/api/users/").json()["results"] == []  # this process: not the old board
    assert ranking.health.keys().token != before
