"""`make run`'s supervisor (`manage.py serve`) as real processes: each test runs it in a
directory of its own (SQLite, the embedded Redis) on a port of its own, and stops only the
processes it started."""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT, free_port

# Supervision does not depend on the database: the PostgreSQL pass of CI leaves it out.
pytestmark = pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL")), reason="runs once, on the embedded default"
)


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def wait_for(condition, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.2)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


class Serve:
    def __init__(self, var: Path) -> None:
        self.var, self.port = var, free_port()
        self.env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"DATABASE_URL", "REDIS_URL", "EMBEDDED_REDIS_DIR", "PYTEST_CURRENT_TEST"}
        }
        self.env |= {
            "DJANGO_SETTINGS_MODULE": "leaderboard.settings.local",
            "VAR_DIR": str(var),
            "PORT": str(self.port),
            "EMBEDDED_REDIS": "supervised",
        }
        self.base = f"http://127.0.0.1:{self.port}"

    def manage(self, *args: str, **kwargs) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, **kwargs
        )

    def start(self) -> subprocess.Popen:
        self.manage("migrate", "-v0").wait(timeout=120)
        process = self.manage("serve", stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        wait_for(lambda: answers(f"{self.base}/readyz"))
        return process

    def children(self, process: subprocess.Popen) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True)
        return [int(pid) for pid in out.stdout.split()]

    def redis_pid(self) -> int:
        return int((self.var / "redis.pid").read_text())


def test_a_second_run_refuses_a_killed_redis_comes_back_and_ctrl_c_twice_stops_all(tmp_path):
    serve = Serve(tmp_path)
    first = serve.start()
    children = serve.children(first)
    try:
        second = serve.manage("serve", stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        said = second.communicate(timeout=120)[0].decode()
        assert second.returncode != 0
        assert "already serving from this checkout" in said
        assert answers(f"{serve.base}/readyz")  # the first one is untouched

        killed = serve.redis_pid()
        os.kill(killed, signal.SIGKILL)
        wait_for(lambda: (serve.var / "redis.pid").exists() and serve.redis_pid() != killed)
        wait_for(lambda: b'"redis": "ok"' in urllib.request.urlopen(f"{serve.base}/readyz").read())
        redis = serve.redis_pid()
    finally:
        first.send_signal(signal.SIGINT)
        time.sleep(0.3)
        first.send_signal(signal.SIGINT)  # a second Ctrl-C cannot cut the cleanup short
        first.wait(timeout=120)
    assert not any(alive(pid) for pid in [*children, redis])
    assert not answers(f"{serve.base}/healthz")


def test_kill_9_of_serve_takes_its_children_with_it(tmp_path):
    serve = Serve(tmp_path)
    first = serve.start()
    children = serve.children(first)
    assert len(children) == 4  # redis, web, worker, beat

    first.kill()
    first.wait()

    wait_for(lambda: not any(alive(pid) for pid in children), timeout=60)
    wait_for(lambda: not answers(f"{serve.base}/healthz"), timeout=30)


def test_a_stale_redis_pid_file_naming_a_stranger_is_left_alone(tmp_path):
    """After a crash and pid reuse, var/redis.pid may name anybody's process: starting
    `make run` must not signal it."""
    stranger = subprocess.Popen(["sleep", "1000"])
    try:
        (tmp_path / "redis.pid").write_text(f"{stranger.pid}\n")
        serve = Serve(tmp_path)
        first = serve.start()
        first.send_signal(signal.SIGINT)
        first.wait(timeout=120)

        assert stranger.poll() is None, "make run signalled a process it did not start"
    finally:
        stranger.kill()
        stranger.wait()
