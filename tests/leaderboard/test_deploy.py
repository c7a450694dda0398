"""The deployment files, checked without Docker: every command they run exists in this repo,
the compose file parses for each profile, the image runs what `make run` runs, and each
role's health check (deploy/healthcheck.py) passes against the real process and fails
without it. deploy/smoke.sh checks the same in containers."""

import ast
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import yaml
from django.core.management import get_commands

from tests.conftest import ROOT, free_port, subprocess_env

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def commands() -> list[tuple[str, list[str]]]:
    found = [(name, s["command"]) for name, s in COMPOSE["services"].items() if "command" in s]
    cmd = re.search(r"^CMD (\[.*\])$", DOCKERFILE, re.MULTILINE)
    health = re.search(r"^\s+CMD (\[.*\])$", DOCKERFILE, re.MULTILINE)
    assert cmd
    assert health
    found += [("Dockerfile CMD", yaml.safe_load(cmd.group(1)))]
    found += [("Dockerfile HEALTHCHECK", yaml.safe_load(health.group(1)))]
    return found


APP_COMMANDS = [(name, c) for name, c in commands() if name not in {"mongo", "redis"}]


@pytest.mark.parametrize(("service", "command"), APP_COMMANDS, ids=[n for n, _ in APP_COMMANDS])
def test_every_command_the_stack_runs_exists(service, command):
    words = " ".join(command).split()
    for i, word in enumerate(words):
        if word == "manage.py":
            assert words[i + 1] in get_commands(), f"{service}: no command {words[i + 1]}"
        elif word.endswith(".py"):
            assert (ROOT / word).is_file(), f"{service}: no file {word}"
        elif word == "-A":
            assert (ROOT / words[i + 1] / "celery.py").is_file()
        elif word.endswith(":application"):
            assert (ROOT / (word.split(":")[0].replace(".", "/") + ".py")).is_file()
        elif word == "-c" and words[0] == "gunicorn":
            assert (ROOT / words[i + 1]).is_file()


def test_the_image_serves_as_make_run_does():
    serve = (ROOT / "leaderboard" / "management" / "commands" / "serve.py").read_text()
    assert '"-c", "leaderboard/gunicorn.conf.py"' in serve
    assert '"-c", "leaderboard/gunicorn.conf.py"' in DOCKERFILE
    assert re.search(r"^USER 10001$", DOCKERFILE, re.MULTILINE)  # not root
    assert DOCKERFILE.count("\nFROM ") == 2  # build stage, then a runtime without pip's cache


def test_one_beat_and_a_proxy_in_front_of_the_web_containers():
    services = COMPOSE["services"]
    assert "ports" not in services["web"]  # scalable: only nginx publishes a port
    assert services["nginx"]["environment"]["UPSTREAM"] == "web:8000"
    assert services["web"]["depends_on"]["migrate"] == {
        "condition": "service_completed_successfully"
    }
    assert services["mongo"]["profiles"] == ["mongo"]
    broker = services["web"]["environment"]["CELERY_BROKER_URL"]
    assert broker.startswith("amqp://")


@pytest.mark.skipif(not shutil.which("docker-compose"), reason="Debian's docker-compose absent")
@pytest.mark.parametrize("profile", [None, "mongo"])
def test_compose_parses_for_each_profile(profile):
    args = ["docker-compose", *(["--profile", profile] if profile else []), "config", "-q"]
    done = subprocess.run(
        args, cwd=ROOT, env={"SECRET_KEY": "x" * 50, "PATH": "/usr/bin:/bin"}, check=False,
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_the_web_and_beat_checks_are_plain_python():
    # They run every 10 s: no Django at the top of the script, only in the worker's check.
    tree = ast.parse((ROOT / "deploy" / "healthcheck.py").read_text())
    imported = {
        alias.name for node in tree.body if isinstance(node, ast.Import) for alias in node.names
    }
    imported |= {node.module or "" for node in tree.body if isinstance(node, ast.ImportFrom)}
    imported = {name.split(".")[0] for name in imported}
    assert imported <= set(sys.stdlib_module_names), imported - set(sys.stdlib_module_names)


# --- Each role's health check, against the real process ----------------------------------


def healthcheck(role: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "deploy/healthcheck.py", role],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def wait_until_healthy(role: str, env: dict[str, str], process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 90
    while (done := healthcheck(role, env)).returncode != 0:
        assert process.poll() is None, f"the {role} exited: {process.communicate()[0]}"
        assert time.monotonic() < deadline, f"{role} never healthy: {done.stderr}"
        time.sleep(0.5)


@contextmanager
def running(command: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    """A process of this test's own, stopped (and reaped) however the test ends."""
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.django_db
def test_the_web_check_passes_while_gunicorn_serves_and_fails_without_it():
    env = {**subprocess_env(), "HOST": "127.0.0.1", "PORT": str(free_port())}
    assert healthcheck("web", env).returncode == 1  # nothing serves yet
    gunicorn = [sys.executable, "-m", "gunicorn", "-c", "leaderboard/gunicorn.conf.py"]
    with running([*gunicorn, "leaderboard.wsgi:application"], env) as web:
        wait_until_healthy("web", env, web)
    assert healthcheck("web", env).returncode == 1


@pytest.mark.django_db
def test_the_worker_check_pings_this_worker_only():
    # A node name and a queue of the test's own: the broker may be shared (RabbitMQ in CI), and
    # another worker's answer must not count, nor may this worker take others' tasks.
    name = f"healthcheck-{uuid.uuid4().hex[:8]}"
    env = {**subprocess_env(), "CELERY_NODE": f"{name}@{socket.gethostname()}"}
    assert healthcheck("worker", env).returncode == 1  # no such worker yet
    worker = [sys.executable, "-m", "celery", "-A", "leaderboard", "worker", "--pool", "solo"]
    with running([*worker, "-n", f"{name}@%h", "-Q", name], env) as process:
        wait_until_healthy("worker", env, process)


@pytest.mark.django_db(transaction=True)
def test_the_beat_check_passes_while_beat_ticks_and_fails_on_a_stale_heartbeat(tmp_path):
    # Beat's messages go to an in-memory broker: no worker of another test receives them.
    env = {**subprocess_env(), "VAR_DIR": str(tmp_path), "CELERY_BROKER_URL": "memory://"}
    assert healthcheck("beat", env).returncode == 1  # no heartbeat yet
    schedule = ["--schedule", str(tmp_path / "beat-schedule")]
    beat = [sys.executable, "-m", "celery", "-A", "leaderboard", "beat", *schedule]
    with running(beat, env) as process:
        wait_until_healthy("beat", env, process)
    heartbeat = tmp_path / "beat.heartbeat"
    old = time.time() - 3600
    os.utime(heartbeat, (old, old))  # a beat whose loop has stopped
    done = healthcheck("beat", env)
    assert done.returncode == 1
    assert "last heartbeat" in done.stderr
