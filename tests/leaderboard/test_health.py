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


def probe(code: str, *, database_url: str) -> str:
    """The last line ``code`` prints in a process of its own, on the database at
    ``database_url``."""
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**subprocess_env(), "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


def test_readyz_is_503_when_the_database_does_not_answer():
    # A process of its own, pointed at a database port where nothing listens.
    answer = probe(
        "import django; django.setup();"
        "from django.test import Client; r = Client().get('/readyz');"
        "print(r.status_code, r.content.decode())",
        database_url="postgres://postgres@127.0.0.1:1/none",
    )
    status, body = answer.split(" ", 1)
    assert status == "503"
    assert json.loads(body)["database"] == "unavailable"


def test_readyz_is_503_with_a_reason_until_the_database_is_migrated(tmp_path):
    # A process of its own, on a database that exists but has no tables yet: what a fresh
    # deployment's web container sees before the one-shot `migrate` has run.
    answer = probe(
        "import django, json; django.setup();"
        "from django.core.management import call_command; from django.test import Client;"
        "before = Client().get('/readyz');"
        "call_command('migrate', verbosity=0);"
        "after = Client().get('/readyz');"
        "print(json.dumps([before.status_code, before.json(), after.status_code]))",
        database_url=f"sqlite:///{tmp_path / 'fresh.sqlite3'}",
    )
    before_status, before, after_status = json.loads(answer)
    assert before_status == 503
    assert before["migrations"] == "pending"
    assert "manage.py migrate" in before["reason"]
    assert after_status == 200
