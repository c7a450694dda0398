"""Fixtures shared by the suite. Everything here is real: SQLite or PostgreSQL, Redis, Celery."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from bson import ObjectId
from django.conf import settings
from django.db import connection
from django.db.models import Count, Sum
from django.test import override_settings
from django_redis import get_redis_connection
from rest_framework.test import APIClient

from accounts.authentication import HashedTokenAuthentication
from accounts.services import token_issue
from leaderboard import embedded_redis
from leaderboard.api import public_id
from users import ranking
from users.models import User
from users.profiles import profiles

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True, scope="session")
def embedded_redis_for_the_run() -> None:
    """The test run's own Redis, unless REDIS_URL names one (settings start nothing)."""
    embedded_redis.start_for_command()


@pytest.fixture(autouse=True)
def fresh_index(request: pytest.FixtureRequest) -> None:
    """Every test starts with an empty Redis and, if it uses the database (which starts empty
    too), an empty, trusted index of that database; and with nothing a process keeps
    (profiles, checked tokens) from an earlier test."""
    get_redis_connection("default").flushdb()
    ranking.health.forget()
    profiles.clear()
    HashedTokenAuthentication._checked.clear()
    wanted = {"transactional_db", "db"} & set(request.fixturenames)
    if wanted:
        request.getfixturevalue(sorted(wanted)[-1])  # transactional_db, if it is asked for
    elif request.node.get_closest_marker("django_db") is None:
        return
    ranking.rebuild([], backlog=list)


@pytest.fixture
def index_trusted_throughout(settings) -> None:
    """An index that stays trusted for the whole test, as beat's sweep every second keeps a
    running service's, so that a long test (MongoDB's retried transactions make some long)
    ends by comparing the index its writers left, not one a sweep repaired."""
    settings.LEADERBOARD_INDEX_TRUST_SECONDS = 600
    ranking.rebuild([], backlog=list)


@pytest.fixture
def api() -> APIClient:
    """An anonymous client."""
    return APIClient()


@pytest.fixture
def writer(transactional_db: None) -> APIClient:
    """A client holding a real API token."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(username='writer')}")
    return client


def redis_unreachable() -> override_settings:
    """Redis stays up, but this process cannot reach it, while the returned context lasts."""
    return override_settings(
        CACHES={"default": {**settings.CACHES["default"], "LOCATION": "unix:///nowhere"}}
    )


def live_key(name: str) -> str:
    """The key ``name`` of the live generation of this database's index ("board", say)."""
    keys = ranking.health.keys()
    current = get_redis_connection("default").get(keys.current)
    assert current is not None, "there is no index"
    return keys.generation(current.decode()) + name


def board_in_db() -> list[tuple[int, int]]:
    """Every live (id, points) in leaderboard order, straight from the database."""
    return list(User.objects.alive().in_leaderboard_order().values_list("pk", "points"))


def groups_in_db() -> list[tuple[int, int, int]]:
    """Every (points, count, sum of ages) of live users, highest first, from the database."""
    rows = User.objects.alive().values("points").annotate(n=Count("pk"), ages=Sum("age"))
    return [(r["points"], r["n"], r["ages"]) for r in rows.order_by("-points")]


def groups_in_index() -> list[tuple[int, int, int]]:
    page = ranking.groups(offset=0, limit=10**6, per_group=1)
    assert page is not None, "the index cannot answer"
    assert page.total == len(page.groups)
    return [(g.points, g.count, g.age_sum) for g in page.groups]


def assert_index_matches_db() -> None:
    """The board, the per-score aggregates and the fingerprint all equal the database."""
    assert ranking.snapshot() == board_in_db()
    assert groups_in_index() == groups_in_db()
    live = User.objects.alive()
    totals = live.aggregate(p=Sum("points"), v=Sum("version"), a=Sum("age"))
    expected = ranking.Fingerprint(
        live.count(), totals["p"] or 0, totals["v"] or 0, totals["a"] or 0
    )
    assert ranking.fingerprint() == expected


@pytest.fixture
def celery_worker(transactional_db: None) -> Iterator[None]:
    """A real Celery worker, in a thread, consuming from the test Redis broker."""
    from celery.contrib.testing.worker import start_worker

    from leaderboard.celery import app

    app.control.purge()  # a RabbitMQ queue outlives the run that filled it
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        yield
        # The worker notices that it should stop between two messages; on RabbitMQ it may
        # wait ten seconds for the next. A broadcast ping is one, at once.
        from celery.worker import state

        state.should_terminate = 0  # type: ignore[assignment]  # celery-types says None only
        app.control.ping(timeout=0.2)


def wait_until_well_inside_a_slot(margin: float = 10) -> None:
    """A winner tick must land in the slot it was sent in: not in the last ``margin`` seconds
    before a 5-minute boundary, where a slow worker would find it late."""
    now = datetime.now(UTC)
    left = 300 - (now.minute % 5 * 60 + now.second + now.microsecond / 1e6)
    if left < margin:
        time.sleep(left + 1)


def wire_id(pk: Any) -> int | str:
    """A primary key as the API writes it: an int on SQL databases, a string on MongoDB."""
    return public_id(pk)


def absent_id() -> str:
    """An id, as a client would send it, that no user (nor any row) has, and that is
    well-formed for the backend: an integer on SQL databases, an ObjectId on MongoDB."""
    return str(ObjectId()) if connection.vendor == "mongodb" else str(2**62)


def free_port() -> int:
    """A loopback port nothing listens on, for a server a test starts itself."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def subprocess_env() -> dict[str, str]:
    """The environment under which a `manage.py` subprocess sees this test's database and
    Redis."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        url = f"sqlite:///{db['NAME']}"
    elif connection.vendor == "mongodb":  # HOST is the whole connection string
        parts = urlsplit(db["HOST"])
        url = urlunsplit(parts._replace(path=f"/{db['NAME']}"))
    else:
        host = db["HOST"] or "127.0.0.1"
        auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
        url = f"postgres://{auth}@{host}:{db['PORT'] or 5432}/{db['NAME']}"
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "leaderboard.settings.test",
        "DATABASE_URL": url,
        "REDIS_URL": settings.REDIS_URL,
    }


def database_url() -> str:
    """The test database's URL, for processes that the tests start."""
    return subprocess_env()["DATABASE_URL"]


@pytest.fixture
def fresh_database(tmp_path: Path) -> Iterator[Any]:
    """Make empty databases beside the test database, of the same kind (an SQLite file, or a
    database on the same PostgreSQL or MongoDB server): ``fresh_database()`` returns a new
    one's URL. They are dropped afterwards."""
    made: list[str] = []
    base = urlsplit(database_url())

    def make() -> str:
        name = f"lb_fresh_{os.getpid()}_{len(made)}"
        made.append(name)
        if connection.vendor == "sqlite":
            return f"sqlite:///{tmp_path / name}.sqlite3"
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
                cursor.execute(f'CREATE DATABASE "{name}"')
        return urlunsplit(base._replace(path=f"/{name}"))  # MongoDB makes it on first write

    yield make
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for name in made:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    elif connection.vendor == "mongodb":
        import pymongo

        client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(database_url())
        with client:
            for name in made:
                client.drop_database(name)


def manage(
    *args: str, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `manage.py` in a subprocess against the test database and Redis (or what ``env``
    says instead); with ``check``, a failure shows what the command printed."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**subprocess_env(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert not check or done.returncode == 0, f"manage.py {args[0]}: {done.stderr[-4000:]}"
    return done


class DisposableRedis:
    """A redis-server of the test's own, which the test may stop and start again."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.url = f"unix://{directory / 'redis.sock'}?db=0"

    def start(self) -> None:
        embedded_redis.ensure_running(self.directory)

    def stop(self) -> None:
        embedded_redis.stop(self.directory)

    def wipe(self) -> None:
        """Lose what the stopped server kept on disk, as a Redis without persistence would."""
        for kept in self.directory.glob("appendonly*"):
            if kept.is_dir():
                shutil.rmtree(kept)
            else:
                kept.unlink()


@pytest.fixture
def disposable_redis() -> Iterator[DisposableRedis]:
    """The index lives in a Redis server the test controls; Celery keeps the usual broker."""
    with tempfile.TemporaryDirectory(prefix="lb-redis-", dir="/tmp") as directory:
        server = DisposableRedis(Path(directory))
        server.start()
        caches = {"default": {**settings.CACHES["default"], "LOCATION": server.url}}
        with override_settings(CACHES=caches):
            yield server
        server.stop()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say plainly when the browser tests did not run."""
    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if "tests/browser/" in report.nodeid
    ]
    if skipped:
        terminalreporter.write_line(
            f"NOTE: {len(skipped)} browser tests were skipped: Chromium is not installed at "
            "/usr/bin/chromium (sudo apt-get install chromium chromium-driver to run them).",
            yellow=True,
        )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Stop the test run's own embedded Redis, if it used one."""
    if not os.environ.get("REDIS_URL"):
        embedded_redis.stop(settings.EMBEDDED_REDIS_DIR)
