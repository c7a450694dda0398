"""What an attacker tried: forged log lines, files readable by anyone, redirected probes, HTML
where JSON was promised, pages without a Content-Security-Policy or that call another origin."""

import os
import re
import secrets
import stat
import subprocess
import sys

import pytest

from tests.conftest import ROOT, subprocess_env
from users.models import User

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    "name",
    [
        "Eve\nSlot 12:05 UTC: Mallory wins",  # a forged log line
        "tab\there",
        "bell\x07",
        "c1\x85control",
        "\u202eevil right-to-left override",
        "zero\u200bwidth",
        "joiner\u200d",
        "line\u2028separator",
        "bom\ufeff",
        "\x1eleading separator",  # Python strips U+001C-U+001F as whitespace: still refused
        "trailing newline\n",
    ],
)
@pytest.mark.parametrize("field", ["name", "address"])
def test_control_and_format_characters_are_refused_in_plain_words(writer, name, field):
    body = {"name": "Ada", "age": 30, field: name}

    response = writer.post("/api/users/", body, format="json")

    assert response.status_code == 400
    assert "control characters" in response.json()[field][0]
    assert not User.objects.exists()


def test_names_in_any_script_are_fine(writer):
    for name in ["Zoë Ångström", "李小龙", "محمد", "Ølaf-Müller Jr.", "👾 Player One"]:
        assert (
            writer.post("/api/users/", {"name": name, "age": 9}, format="json").status_code == 201
        )


@pytest.mark.parametrize(
    "path",
    ["/api/", "/api/nothing/", "/api/users/1/nothing/", "/api/users/grouped/", "/api/../x"],
)
def test_every_unknown_api_path_is_a_json_404(api, path):
    response = api.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"]


def test_a_missing_trailing_slash_is_a_json_404_that_says_so(api):
    response = api.get("/api/users")

    assert response.status_code == 404
    assert response.json()["detail"] == "Every path ends with a slash: try /api/users/."


@pytest.mark.parametrize("path", ["/", "/api/docs/", "/api/redoc/", "/admin/login/"])
def test_pages_send_a_content_security_policy(api, path):
    policy = api.get(path)["Content-Security-Policy"]

    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy


@pytest.mark.parametrize("path", ["/", "/api/docs/", "/api/redoc/"])
def test_pages_name_no_other_origin(api, path):
    """Not even a font or a preconnect, which the policy does not stop: a visit to the docs
    tells no third party."""
    page = api.get(path).content.decode()

    assert re.findall(r"""(?:href|src)=["']?(?:https?:)?//[^"'>]*""", page) == []


def run_local(tmp_path, *args: str) -> None:
    env = {
        key: value
        for key, value in subprocess_env().items()
        if key not in {"DATABASE_URL", "REDIS_URL", "EMBEDDED_REDIS_DIR", "SECRET_KEY"}
    }
    env |= {
        "DJANGO_SETTINGS_MODULE": "leaderboard.settings.local",
        "VAR_DIR": str(tmp_path / "var"),
    }
    try:
        subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
        )
    finally:
        embedded = tmp_path / "var" / "redis.pid"
        if embedded.exists():
            os.kill(int(embedded.read_text()), 15)


def test_files_under_var_are_readable_by_their_owner_only(tmp_path):
    run_local(tmp_path, "migrate", "-v0")

    made = [path for path in (tmp_path / "var").rglob("*") if path.is_file()]
    assert {path.name for path in made} >= {"db.sqlite3", "secret_key", "redis.log"}
    for path in made:
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path
    assert stat.S_IMODE((tmp_path / "var").stat().st_mode) == 0o700


PRODUCTION = {
    "PATH": "/usr/bin:/bin",
    "DJANGO_SETTINGS_MODULE": "leaderboard.settings.production",
    "DATABASE_URL": "sqlite:////tmp/unused.sqlite3",
    "REDIS_URL": "redis://127.0.0.1:1/0",
    "ALLOWED_HOSTS": "leaderboard.example.com",
}


def production_get(path: str, **env: str) -> str:
    probe = (
        "import django; django.setup(); from django.test import Client;"
        f"r = Client().get('{path}', HTTP_HOST='leaderboard.example.com');"
        "print(r.status_code)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env={**PRODUCTION, "SECRET_KEY": secrets.token_urlsafe(50), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr


@pytest.mark.parametrize("path", ["/healthz", "/healthz/", "/readyz", "/readyz/"])
def test_probes_are_not_redirected_to_https(path):
    assert production_get(path) in {"200", "503"}  # readyz: no database here


def test_everything_else_is_redirected_to_https():
    assert production_get("/api/users/") == "301"


def test_production_refuses_a_short_secret_key():
    answer = production_get("/healthz", SECRET_KEY="too-short")
    assert "SECRET_KEY is shorter than 50 characters" in answer
