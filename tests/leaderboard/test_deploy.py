"""The deployment files, checked without Docker: every command they run exists in this repo,
the compose file parses for each profile, and the image runs what `make run` runs."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands

from tests.conftest import ROOT

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


def test_the_health_check_script_is_plain_python():
    source = Path(ROOT / "deploy" / "healthcheck.py").read_text()
    assert "django" not in source.split('"""')[2]  # no Django import: it runs every 10 s
