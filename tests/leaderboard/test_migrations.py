"""The migrations run forwards and backwards, and again, on a fresh database."""

import subprocess
import sys

from tests.conftest import ROOT, subprocess_env


def manage(env: dict[str, str], *args: str) -> str:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=180,
    ).stdout


SCHEDULE = (
    "from django_celery_beat.models import PeriodicTask as P;"
    "[print(t.task, t.interval and t.interval.every, t.crontab and t.crontab.minute)"
    " for t in P.objects.order_by('task')]"
)


def test_migrations_are_reversible_and_rerunnable(tmp_path):
    env = {**subprocess_env(), "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}"}
    manage(env, "migrate", "-v0")
    # An operator's own 300-second interval beside the one the schedule uses: re-applying
    # winners 0002 used to stop on MultipleObjectsReturned.
    manage(
        env,
        "shell",
        "-v0",
        "-c",
        "from django_celery_beat.models import IntervalSchedule as I;"
        "I.objects.create(every=300, period='seconds')",
    )

    manage(env, "migrate", "winners", "zero", "-v0")
    manage(env, "migrate", "users", "0001", "-v0")
    manage(env, "migrate", "-v0")

    assert manage(env, "shell", "-v0", "-c", SCHEDULE).splitlines() == [
        "accounts.tasks.purge_idempotency_keys None 17",
        "users.tasks.check_leaderboard None 2-59/5",
        "users.tasks.sweep_leaderboard 1 None",
        "winners.tasks.declare_winner None */5",
    ]


def test_the_migrations_match_the_models():
    done = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=ROOT,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout
