"""Faults under load: is the ranking index ever `ready` and wrong for 10 seconds or more?

    make chaos                                   # 10 minutes
    make chaos CHAOS_ARGS="--seconds 30"         # what CI runs

It serves the whole stack with `manage.py serve` (as `make run` does) in var/chaos/, on its
own SQLite file and its own embedded Redis, and for the duration:
- writers send random +/- changes and deletes over HTTP, and restore deleted users;
- faults strike at random: a full rebuild, Redis's writes paused for 1-5 s (CLIENT PAUSE, as
  during a failover), Redis killed with SIGKILL (serve restarts it from its append-only file),
  and web workers recycled (SIGHUP to gunicorn) or killed (SIGKILL);
- a monitor compares the index with the database, user by user, every couple of seconds,
  whenever the index says it is ready, and notes how long each difference lasted.

At the end the faults stop, the index gets a few sweeps to settle, and it must equal the
database row for row. It exits non-zero if that fails, or if any difference lasted longer than
the trust bound (LEADERBOARD_INDEX_TRUST_SECONDS, 10 s) while the index said it was ready.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from run import stop_servers_when_killed

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var" / "chaos"
LIMIT_SECONDS = 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--port", type=int, default=8097)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    stop_servers_when_killed()

    shutil.rmtree(VAR, ignore_errors=True)
    VAR.mkdir(parents=True)
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}},
        "DJANGO_SETTINGS_MODULE": "leaderboard.settings.local",
        "VAR_DIR": str(VAR),
        "PORT": str(args.port),
        "EMBEDDED_REDIS": "supervised",
        "THROTTLE_ANON": "off",
        "THROTTLE_WRITES": "off",
        "LOG_LEVEL": "WARNING",
    }

    def manage(*args: str) -> None:
        subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True
        )

    manage("migrate", "-v0")
    server = subprocess.Popen(
        [sys.executable, "manage.py", "serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:  # from here on, whatever ends this run (SIGTERM too) stops the server first
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        chaos = Chaos(server, args)
        chaos.wait_until_serving()
        manage("seed_users", "--count", str(args.users))
        ok = chaos.run()
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=120)
    sys.exit(0 if ok else 1)


class Chaos:
    def __init__(self, server: subprocess.Popen[bytes], args: argparse.Namespace) -> None:
        from accounts.services import token_issue

        self.server, self.args = server, args
        self.draw = random.Random(args.seed)
        self.token = token_issue(username="chaos")
        self.stop = threading.Event()
        self.done: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()
        self.longest_difference = 0.0
        self.lock = threading.Lock()

    def wait_until_serving(self) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, http.client.HTTPException, ValueError):
                if self._get("/readyz").get("database") == "ok":
                    return
            time.sleep(0.5)
        sys.exit("The server did not start; try `make run` with VAR_DIR=var/chaos.")

    def run(self) -> bool:
        from users.models import User

        self.ids = list(User.objects.values_list("pk", flat=True))
        threads = [
            threading.Thread(target=self._write, args=(n,)) for n in range(self.args.writers)
        ]
        threads += [threading.Thread(target=self._strike), threading.Thread(target=self._monitor)]
        print(f"Chaos for {self.args.seconds:.0f} s on {len(self.ids):,} users…", flush=True)
        for thread in threads:
            thread.start()
        time.sleep(self.args.seconds)
        self.stop.set()
        for thread in threads:
            thread.join()
        return self._settle_and_report()

    # --- The load --------------------------------------------------------------------------

    def _write(self, n: int) -> None:
        from django.db import connection

        from users.services import user_restore

        draw = random.Random(self.args.seed * 100 + n)
        port = self.args.port
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Authorization": f"Token {self.token}", "Content-Type": "application/json"}
        try:
            while not self.stop.is_set():
                pk = draw.choice(self.ids)
                kind = draw.choices(["plus", "minus", "delete", "restore"], [6, 4, 1, 1])[0]
                try:
                    if kind == "restore":
                        with contextlib.suppress(Exception):
                            user_restore(user_id=pk)
                    else:
                        method, path, body = {
                            "plus": ("POST", f"/api/users/{pk}/increment/", '{"by": 3}'),
                            "minus": ("POST", f"/api/users/{pk}/decrement/", '{"by": 2}'),
                            "delete": ("DELETE", f"/api/users/{pk}/", None),
                        }[kind]
                        client.request(method, path, body, headers)
                        client.getresponse().read()
                    with self.lock:
                        self.done[kind] += 1
                except (OSError, http.client.HTTPException):
                    with self.lock:
                        self.done["refused while the server recovered"] += 1
                    client = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                    time.sleep(0.2)
        finally:
            connection.close()

    # --- The faults ------------------------------------------------------------------------

    def _strike(self) -> None:
        faults = {
            "rebuild": self._rebuild,
            "Redis writes paused": self._pause_redis,
            "Redis killed": self._kill_redis,
            "web workers recycled (HUP)": lambda: self._signal_web(signal.SIGHUP),
            "a web worker killed": self._kill_web_worker,
        }
        while not self.stop.wait(self.draw.uniform(2, 8)):
            name = self.draw.choice(list(faults))
            with contextlib.suppress(Exception):
                faults[name]()
                self.faults[name] += 1

    def _rebuild(self) -> None:
        subprocess.Popen(
            [sys.executable, "manage.py", "rebuild_leaderboard", "--chunk-size", "300"],
            cwd=ROOT,
            env=os.environ.copy(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def _pause_redis(self) -> None:
        from django_redis import get_redis_connection

        get_redis_connection("default").execute_command(
            "CLIENT", "PAUSE", self.draw.randint(1000, 5000), "WRITE"
        )

    def _kill_redis(self) -> None:
        os.kill(int((VAR / "redis.pid").read_text()), signal.SIGKILL)

    def _gunicorn(self) -> int:
        out = subprocess.run(
            ["pgrep", "-P", str(self.server.pid), "-f", "gunicorn"], capture_output=True, text=True
        )
        return int(out.stdout.split()[0])

    def _signal_web(self, signum: int) -> None:
        os.kill(self._gunicorn(), signum)

    def _kill_web_worker(self) -> None:
        out = subprocess.run(["pgrep", "-P", str(self._gunicorn())], capture_output=True, text=True)
        os.kill(int(self.draw.choice(out.stdout.split())), signal.SIGKILL)

    # --- The watch -------------------------------------------------------------------------

    def _monitor(self) -> None:
        from django.db import connection

        differing_since: dict[object, float] = {}
        try:
            while not self.stop.wait(2):
                with contextlib.suppress(Exception):
                    differing = self._differences_while_ready()
                    if differing is None:  # not ready: readers use the database
                        differing_since.clear()
                        continue
                    now = time.monotonic()
                    differing_since = {pk: differing_since.get(pk, now) for pk in differing}
                    if differing_since:
                        longest = now - min(differing_since.values())
                        self.longest_difference = max(self.longest_difference, longest)
        finally:
            connection.close()

    def _differences_while_ready(self) -> set[object] | None:
        from users import ranking
        from users.upkeep import leaderboard_differences

        if ranking.status()["index"] != "ready":
            return None
        differing = leaderboard_differences()
        return differing if ranking.status()["index"] == "ready" else None

    # --- The end ---------------------------------------------------------------------------

    def _settle_and_report(self) -> bool:
        from users.upkeep import leaderboard_differences

        print("Faults stopped; waiting for the index to settle…", flush=True)
        deadline = time.monotonic() + 60
        differing: set[object] = set()
        while time.monotonic() < deadline:
            time.sleep(5)
            with contextlib.suppress(Exception):
                differing = leaderboard_differences()
                if not differing and self._get("/readyz").get("index") == "ready":
                    break
        print(
            json.dumps(
                {
                    "seconds": self.args.seconds,
                    "operations": dict(self.done),
                    "faults": dict(self.faults),
                    "longest difference while ready (s)": round(self.longest_difference, 1),
                    "users that differ at the end": len(differing),
                },
                indent=2,
            )
        )
        ok = not differing and self.longest_difference <= LIMIT_SECONDS
        print("PASSED" if ok else "FAILED", flush=True)
        return ok

    def _get(self, path: str) -> dict[str, object]:
        client = http.client.HTTPConnection("127.0.0.1", self.args.port, timeout=10)
        client.request("GET", path)
        return json.loads(client.getresponse().read())


if __name__ == "__main__":
    main()
