"""`make run`: the web server, a Celery worker and Celery beat, stopped together by Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from types import FrameType

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from leaderboard import embedded_redis
from users import ranking
from users.upkeep import leaderboard_repair


class Command(BaseCommand):
    help = "Serve the whole service: gunicorn, a Celery worker and Celery beat."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reload", action="store_true", help="Restart the web server when code changes."
        )

    def handle(self, *args: object, reload: bool, **options: object) -> None:
        embedded = not os.environ.get("REDIS_URL")
        # Children reach the same Redis and database as this process, whatever they find.
        child_env = {**os.environ, "REDIS_URL": settings.REDIS_URL}
        address = f"{settings.HOST}:{settings.PORT}"
        try:
            ready = leaderboard_repair()
        except (ranking.RepairBusy, ranking.RebuildInProgress, ranking.RedisUnavailable) as exc:
            self.stderr.write(f"The ranking index was not checked ({exc!r}).")
        else:
            self.stdout.write(f"Ranking index ready ({ready}).")

        python = sys.executable
        commands = {
            "web": [
                python,
                "-m",
                "gunicorn",
                "leaderboard.wsgi:application",
                "--bind",
                address,
                "--workers",
                os.environ.get("WEB_CONCURRENCY", "3"),
                "--access-logfile",
                "-",
                *(["--reload"] if reload else []),
            ],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "leaderboard",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                "2",
            ],
            "beat": [python, "-m", "celery", "-A", "leaderboard", "beat", "--loglevel", "INFO"],
        }
        # In sessions of their own, so that Ctrl-C reaches only this process, which then
        # stops them in order.
        children = {
            name: subprocess.Popen(command, env=child_env, start_new_session=True)
            for name, command in commands.items()
        }
        self._banner(f"http://{address}")

        def stop(signum: int, frame: FrameType | None) -> None:
            raise KeyboardInterrupt

        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, stop)
        exit_code = 0
        try:
            while True:
                for name, child in children.items():
                    if child.poll() is not None:
                        self.stderr.write(f"The {name} process exited ({child.returncode}).")
                        exit_code = 1
                        raise KeyboardInterrupt
                time.sleep(0.5)
        except KeyboardInterrupt:
            self.stdout.write("Stopping…")
        finally:
            for child in children.values():
                if child.poll() is None:
                    child.terminate()
            for child in children.values():
                try:
                    child.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    child.kill()
            if embedded:
                embedded_redis.stop(settings.EMBEDDED_REDIS_DIR)
        sys.exit(exit_code)

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
