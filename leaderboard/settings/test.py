"""Test settings. Each difference from the embedded default says why."""

import os
from pathlib import Path

# Tests never touch the data of a `make run` beside them: the embedded Redis serves them
# from its database 1, and the test database is a file of its own (below).
os.environ.setdefault(
    "EMBEDDED_REDIS_DIR", str(Path(__file__).resolve().parents[2] / "var" / "test-redis")
)

from .base import *  # noqa: F403
from .base import DATABASES, VAR_DIR

SECRET_KEY = "tests-only-not-a-secret"  # noqa: S105 - never used outside the test run
ALLOWED_HOSTS = ["*"]  # the live server for browser tests binds to an arbitrary port

# Hashing passwords the slow, safe way only slows the suite down.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The suite does not run collectstatic; the live server serves files from the apps.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Threads and subprocesses (Celery workers, concurrent clients, a second `manage.py`) must
# see the same test database, so SQLite tests use a file rather than memory.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test_db.sqlite3")}

# Tests that stop Redis want reads to try it again at once when it is back.
LEADERBOARD_REDIS_RETRY_SECONDS = 0.0
# Tests read the grouped view's fallback right after each write; the reuse has a test of
# its own.
LEADERBOARD_FALLBACK_REUSE_SECONDS = 0.0
# Tests send requests by the hundred from one address and one account; the throttles have
# tests of their own (tests/leaderboard/test_throttling.py).
THROTTLE_ANON = "off"
THROTTLE_WRITES = "off"

# Tests read the board right after they change it; the reuse of anonymous reads has tests of
# its own (tests/leaderboard/test_middleware.py).
LEADERBOARD_PUBLIC_CACHE_SECONDS = 0
