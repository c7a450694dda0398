"""The embedded default: what `make run`, `make dev` and the management commands use."""

import os
import secrets

# Everything a process writes under var/ (the SQLite file with live sessions, the secret key,
# Redis's append-only file) is readable by its owner only.
os.umask(0o077)

from .base import *  # noqa: E402, F403
from .base import HOST, VAR_DIR, env  # noqa: E402


def _local_secret_key() -> str:
    """A key made once per checkout and kept in var/, so sessions survive a restart."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env("SECRET_KEY", default="") or _local_secret_key()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", HOST])
