"""`make run`: the web server, a Celery worker, Celery beat and (without REDIS_URL) the
embedded Redis, watched together and stopped together.

- Each child is restarted if it dies (a crash loop stops everything, with the reason).
- Each child dies with this process, even on `kill -9` of it: it is started with a parent-death
  signal (Linux's prctl), in a process group of its own.
- Ctrl-C stops the children in order; a second Ctrl-C cannot cut that short.
- A second `make run` in the same checkout refuses, and leaves the first one alone.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from leaderboard import embedded_redis
from leaderboard.processes import die_with_parent
from users import ranking
from users.upkeep import leaderboard_sweep

# A child that dies this many times within a minute is not restarted again.
CRASHES_PER_MINUTE = 5


@dataclass
class Child:
    name: str
    command: list[str]
    # What it gets to stop: quickly for gunicorn, a warm shutdown for Celery, a clean one
    # (the append-only file flushed) for Redis.
    stop_signal: int = signal.SIGTERM
    process: subprocess.Popen[bytes] | None = None
    crashes: deque[float] = field(default_factory=lambda: deque(maxlen=CRASHES_PER_MINUTE))

    def start(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            self.command,
            env=env,
            start_new_session=True,  # Ctrl-C reaches this process only, which stops them in order
            preexec_fn=lambda: die_with_parent(self.stop_signal),
            umask=0o077,  # what they write under var/ is the owner's alone
        )

    def exited(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def crash_looping(self) -> bool:
        self.crashes.append(time.monotonic())
        return len(self.crashes) == CRASHES_PER_MINUTE and self.crashes[-1] - self.crashes[0] < 60

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(self.stop_signal)

    def wait(self, timeout: float) -> None:
        if self.process is None:
            return
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Command(BaseCommand):
    help = "Serve the whole service: gunicorn, a Celery worker, Celery beat, and Redis."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reload", action="store_true", help="Restart the web server when code changes."
        )

    def handle(self, *args: object, reload: bool, **options: object) -> None:
        var = Path(settings.VAR_DIR)
        var.mkdir(parents=True, exist_ok=True, mode=0o700)
        lock = self._lock(var / "serve.lock")
        embedded = not os.environ.get("REDIS_URL")
        # Children reach the same Redis and database as this process, and never start a
        # Redis of their own: this process supervises it.
        env = {**os.environ, "REDIS_URL": settings.REDIS_URL, "EMBEDDED_REDIS": "supervised"}
        redis = self._embedded_redis() if embedded else None
        children = self._children(reload)

        stopping = False

        def stop(signum: int, frame: FrameType | None) -> None:
            nonlocal stopping
            stopping = True

        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, stop)
        exit_code = 0
        try:
            if redis:
                self._start_redis(redis, env)
            self._ready_index()
            for child in children:
                child.start(env)
            self._banner(f"http://{settings.HOST}:{settings.PORT}")
            while not stopping:
                time.sleep(0.5)
                for child in [*([redis] if redis else []), *children]:
                    if (code := child.exited()) is None:
                        continue
                    if child.crash_looping():
                        self.stderr.write(
                            f"The {child.name} process keeps exiting ({code}); stopping. "
                            "See its output above."
                        )
                        exit_code, stopping = 1, True
                        break
                    self.stderr.write(f"The {child.name} process exited ({code}); restarting it.")
                    if child is redis:
                        self._start_redis(redis, env)
                    else:
                        child.start(env)
        finally:
            # Nothing interrupts the cleanup: a second Ctrl-C would leave children running.
            for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                signal.signal(signum, signal.SIG_IGN)
            self.stdout.write("Stopping…")
            for child in children:
                child.stop()
            for child in children:
                child.wait(timeout=25)
            if redis:
                redis.stop()
                redis.wait(timeout=15)
            lock.close()
        sys.exit(exit_code)

    def _lock(self, path: Path) -> IO[str]:
        """Hold ``path`` for as long as this process serves; refuse if another one does."""
        lock = open(path, "a+")  # noqa: SIM115 - held until the end of handle()
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "another process"
            lock.close()
            raise CommandError(
                f"`make run` is already serving from this checkout ({holder}). Stop it with "
                "Ctrl-C first; it was left untouched."
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(f"pid {os.getpid()}, http://{settings.HOST}:{settings.PORT}/")
        lock.flush()
        return lock

    def _embedded_redis(self) -> Child:
        directory = Path(settings.EMBEDDED_REDIS_DIR)
        embedded_redis.prepare(directory)
        # A server a command started on its own gives way to the supervised one: its
        # append-only file carries the index over.
        embedded_redis.stop(directory)
        self._redis_running = embedded_redis.hold_running(directory)
        # Commands run beside `make run` wait on this lock for the supervised server rather
        # than start another one while it restarts.
        self._redis_lock = open(directory / "redis.lock", "w")  # noqa: SIM115
        fcntl.flock(self._redis_lock, fcntl.LOCK_EX)
        return Child("redis", embedded_redis.command(directory, daemonize=False))

    def _start_redis(self, redis: Child, env: dict[str, str]) -> None:
        directory = Path(settings.EMBEDDED_REDIS_DIR)
        embedded_redis.socket_path(directory).unlink(missing_ok=True)
        redis.start(env)
        embedded_redis.wait_until_answering(directory)

    def _ready_index(self) -> None:
        """Reuse the index if Redis kept one for this database (a sweep brings it up to
        date); build it only when it is missing."""
        try:
            outcome = leaderboard_sweep()
        except (ranking.SweepBusy, ranking.RebuildInProgress):
            self.stdout.write("The ranking index is being swept or rebuilt already.")
        except ranking.RedisUnavailable as exc:
            self.stderr.write(f"Redis did not answer ({exc}); reads use the database for now.")
        else:
            if isinstance(outcome, ranking.Rebuilt):
                self.stdout.write(f"Ranking index built: {outcome.count:,} users.")
            else:
                self.stdout.write("Ranking index reused.")

    def _children(self, reload: bool) -> list[Child]:
        python = sys.executable
        gunicorn = [python, "-m", "gunicorn", "-c", "leaderboard/gunicorn.conf.py"]
        celery = [python, "-m", "celery", "-A", "leaderboard"]
        return [
            Child(
                "web",
                [*gunicorn, *(["--reload"] if reload else []), "leaderboard.wsgi:application"],
                stop_signal=signal.SIGINT,
            ),
            Child("worker", [*celery, "worker", "--loglevel", "INFO", "--concurrency", "2"]),
            Child("beat", [*celery, "beat", "--loglevel", "INFO"]),
        ]

    def _banner(self, base: str) -> None:
        self.stdout.write(
            self.style.SUCCESS(f"\nThe leaderboard is serving on {base}/\n")
            + f"  API            {base}/api/users/\n"
            + f"  API docs       {base}/api/docs/\n"
            + f"  Admin          {base}/admin/   "
            + "(first: .venv/bin/python manage.py createsuperuser)\n"
            + "  Write token    .venv/bin/python manage.py issue_token <username>\n"
            + "  Stop           Ctrl-C\n"
        )
