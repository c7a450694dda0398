"""The container's health check, one for each role the image runs:

- web: does this container's web server answer /healthz? It asks with the first ALLOWED_HOSTS
  name, so that Django does not refuse the Host header;
- worker: does this container's Celery worker answer a ping through the broker?
- beat: has beat ticked lately? Its scheduler (leaderboard.beat_scheduler) touches a heartbeat
  file on each tick.

The role is the first argument, else $ROLE, else guessed from the container's main process
(so that a plain `docker run IMAGE celery -A leaderboard worker` is judged as a worker, not
as a web server that is not there), else web. The web and beat checks are plain Python,
without Django, since they run every few seconds; only the worker's loads the settings, to
find the broker.
"""

import os
import socket
import sys
import time
import urllib.request
from pathlib import Path

ROLES = ("web", "worker", "beat")
# Beat ticks at least every 5 s (django-celery-beat's longest sleep); a heartbeat older than
# this means its loop is stuck or gone.
BEAT_STALE_SECONDS = 60
WORKER_PING_SECONDS = 3.0


def beat_heartbeat_file() -> Path:
    """Where beat's scheduler touches its heartbeat: $VAR_DIR/beat.heartbeat, as
    leaderboard.beat_scheduler writes it."""
    var_dir = os.environ.get("VAR_DIR") or str(Path(__file__).resolve().parent.parent / "var")
    return Path(var_dir) / "beat.heartbeat"


def role() -> str:
    if len(sys.argv) > 1:
        return sys.argv[1]
    if os.environ.get("ROLE"):
        return os.environ["ROLE"]
    try:  # Inside a container, PID 1 is the role's own command.
        argv = Path("/proc/1/cmdline").read_bytes().split(b"\0")
    except OSError:
        argv = []
    words = [w.decode(errors="replace") for w in argv]
    if any(w.endswith("celery") for w in words):
        for name in ("worker", "beat"):
            if name in words:
                return name
    return "web"


def check_web() -> str | None:
    host = os.environ.get("ALLOWED_HOSTS", "localhost").split(",")[0].strip().lstrip(".")
    request = urllib.request.Request(
        f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/healthz", headers={"Host": host}
    )
    try:
        with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310 - our own URL
            return None if response.status == 200 else f"/healthz answered {response.status}"
    except OSError as exc:
        return f"/healthz: {exc}"


def check_worker() -> str | None:
    # A check must start nothing: with no REDIS_URL, "supervised" makes the settings point at
    # the embedded Redis's socket instead of starting one.
    os.environ.setdefault("EMBEDDED_REDIS", "supervised")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leaderboard.settings.production")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from leaderboard.celery import app

    # This container's worker only (Celery's default node name), not any worker on the broker.
    node = os.environ.get("CELERY_NODE") or f"celery@{socket.gethostname()}"
    try:
        replies = app.control.ping(destination=[node], timeout=WORKER_PING_SECONDS)
    except Exception as exc:  # any broker error means "not healthy"
        return f"ping {node}: {exc}"
    return None if any(node in r for r in replies or []) else f"{node} did not answer a ping"


def check_beat() -> str | None:
    path = beat_heartbeat_file()
    try:
        age = time.time() - path.stat().st_mtime
    except OSError as exc:
        return f"no heartbeat: {exc}"
    return None if age < BEAT_STALE_SECONDS else f"last heartbeat {age:.0f} s ago ({path})"


def main() -> int:
    name = role()
    if name not in ROLES:
        print(f"unknown role {name!r}: one of {', '.join(ROLES)}", file=sys.stderr)
        return 2
    problem = {"web": check_web, "worker": check_worker, "beat": check_beat}[name]()
    if problem:
        print(f"{name} unhealthy: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
