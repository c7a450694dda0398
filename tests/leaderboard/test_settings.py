import secrets
import subprocess
import sys

from tests.conftest import ROOT

PRODUCTION = {
    "PATH": "/usr/bin:/bin",
    "DJANGO_SETTINGS_MODULE": "leaderboard.settings.production",
    "DATABASE_URL": "postgres://leaderboard@db.internal:5432/leaderboard",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "ALLOWED_HOSTS": "leaderboard.example.com",
}


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_settings_pass_check_deploy():
    env = {**PRODUCTION, "SECRET_KEY": secrets.token_urlsafe(60)}

    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = manage(PRODUCTION, "check")

    assert result.returncode != 0
    assert "Set the SECRET_KEY environment variable" in result.stderr
