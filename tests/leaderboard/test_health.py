import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT, subprocess_env


def test_healthz_answers_while_the_process_serves(api):
    assert api.get("/healthz").json() == {"status": "ok"}
    assert api.get("/healthz/").status_code == 200


@pytest.mark.django_db
def test_readyz_reports_the_database_and_redis(api):
    response = api.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "database": "ok",
        "redis": "ok",
        "index": "ready",
        "pending": 0,
        "oldest_pending_seconds": None,
    }


def test_readyz_is_503_when_the_database_does_not_answer():
    # A process of its own, pointed at a database port where nothing listens.
    probe = (
        "import django; django.setup();"
        "from django.test import Client; r = Client().get('/readyz');"
        "print(r.status_code, r.content.decode())"
    )
    env = {**subprocess_env(), "DATABASE_URL": "postgres://postgres@127.0.0.1:1/none"}
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    status, body = result.stdout.strip().splitlines()[-1].split(" ", 1)
    assert status == "503"
    assert json.loads(body)["database"] == "unavailable"
