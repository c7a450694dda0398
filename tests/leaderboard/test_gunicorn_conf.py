"""gunicorn's settings (leaderboard/gunicorn.conf.py) beyond what the deadlines' tests cover."""

import subprocess
import sys

import pytest

from tests.conftest import ROOT, subprocess_env


@pytest.mark.django_db
def test_a_worker_freezes_what_it_loaded_before_it_serves():
    # What Django, the apps and the views made at start-up lives as long as the worker:
    # frozen, Python's full collections no longer walk it while every thread waits.
    script = (
        "import gc, runpy, django; django.setup(); "
        "runpy.run_path('leaderboard/gunicorn.conf.py')['post_worker_init'](None); "
        "import users.views; "  # loaded by the hook, with the URLconf: nothing new to track
        "print(gc.get_freeze_count(), len(gc.get_objects()))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    frozen, tracked = map(int, done.stdout.split())
    assert frozen > 20 * tracked
