"""Figures at scale: seed users, rebuild the index, then load the API with wrk, served by
`manage.py serve`, the command behind `make run`.

    make benchmark                                  # 1M users, SQLite and the embedded Redis
    make benchmark BENCHMARK_ARGS="--sizes 100000,1000000,10000000 \\
        --database-url postgres://postgres@127.0.0.1:5432/bench \\
        --redis-url redis://127.0.0.1:6379/9"
    make benchmark BENCHMARK_ARGS="--smoke"         # 10k users, 2 s a scenario (CI)

The database and the Redis database it is given are WIPED. Without URLs it uses an SQLite
file and an embedded Redis of its own under var/bench/, apart from `make run`'s.

Every endpoint is measured with wrk (Debian's package) from the same machine, so the load
generator shares the CPUs with the server: the figures are a floor. /healthz is measured
first, and again for a few seconds just before each scenario; each endpoint is also given as
a ratio to the /healthz measured just before it, in the same state. Throttling is
off for the run (one address sending thousands of requests a second is what it stops); its
cost is measured separately (--throttle-cost).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"
RESULTS = Path(__file__).resolve().parent / "results"
PATHS_LUA = Path(__file__).resolve().parent / "wrk" / "paths.lua"
FLOOR = "/healthz (the floor)"
# /healthz is measured again, this long, before each scenario.
FLOOR_SECONDS = 3.0
# Bursts before a seed beside the service: their median is the steady state, since one burst
# on a shared machine can be a quarter off either way (a 4-second burst of details fell to
# 0.76x of the median of three with no seed running; bursts are now a scenario's length).
STEADY_BURSTS = 5


@dataclass
class Load:
    rate: float
    p50_ms: float
    p99_ms: float
    errors: int


@dataclass
class Size:
    users: int
    seed_s: float = 0.0
    seed_rss_mb: float = 0.0
    rebuild_s: float = 0.0
    rebuild_rss_mb: float = 0.0
    rebuild_longest_stall_ms: float = 0.0
    redis_bytes_per_user: dict[str, float] = field(default_factory=dict)
    winner_job_p50_ms: float = 0.0
    loads: dict[str, Load] = field(default_factory=dict)
    # /healthz measured again just before each scenario: its ratio's own floor.
    floors: dict[str, Load] = field(default_factory=dict)
    index_differences_after_writes: int | None = None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000000", help="comma-separated board sizes")
    parser.add_argument("--database-url", help="a database to wipe and use (default: SQLite)")
    parser.add_argument("--redis-url", help="a Redis database to wipe and use (default: embedded)")
    parser.add_argument("--seconds", type=float, default=8.0, help="per scenario")
    parser.add_argument("--connections", type=int, default=16, help="wrk's connections")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--smoke", action="store_true", help="10k users, 2 s a scenario")
    parser.add_argument(
        "--throttle-cost", action="store_true", help="also measure reads with throttling on"
    )
    parser.add_argument(
        "--keep", action="store_true", help="reuse the users already there (no wipe, no seed)"
    )
    parser.add_argument("--only", help="run only the scenarios whose names contain this")
    parser.add_argument("--server-log", type=Path, help="append the service's output to this file")
    parser.add_argument(
        "--during-seed",
        type=int,
        default=0,
        metavar="N",
        help="then seed N more users beside the live service, and measure detail and increment "
        "during the seed and in each minute of --minutes-after it, as ratios to the steady state",
    )
    parser.add_argument("--minutes-after", type=int, default=5, help="with --during-seed (5)")
    parser.add_argument(
        "--compare-servers",
        action="store_true",
        help="then serve the same application with granian beside gunicorn, and measure both",
    )
    args = parser.parse_args()
    stop_servers_when_killed()
    if args.smoke:
        args.sizes, args.seconds, args.connections = "10000", 2.0, 8
    sizes = [int(s) for s in args.sizes.split(",")]

    env = _environment(args)
    db_kind = "PostgreSQL" if "postgres" in env["DATABASE_URL"] else "SQLite"
    redis_kind = "Redis at --redis-url" if args.redis_url else "the embedded Redis"
    loader = "wrk" if shutil.which("wrk") else "a Python load generator (install wrk!)"
    print(f"# {db_kind} with {redis_kind}, {os.cpu_count()} CPUs, loaded by {loader}\n")
    if not shutil.which("wrk"):
        print("wrk is not installed (Debian: apt-get install wrk); the Python load generator")
        print("competes with the server for the same CPUs, so its figures are lower.\n")

    _check_database(env)
    if not args.keep:
        _wipe(env, args)
    bench = Bench(env, args, server_log=args.server_log)
    results: list[Size] = []
    try:
        with bench.serving():
            for users in sizes:
                results.append(bench.measure(users))
                _print_size(results[-1], args)
            if args.during_seed:
                bench.seed_under_load(results[-1])
            if args.compare_servers:
                bench.compare_servers()
        if args.throttle_cost:
            bench.throttle_cost(results[-1])
    finally:
        shutil.rmtree(bench.paths, ignore_errors=True)
    _print_growth(results)
    _write(results, args, db_kind)


def _environment(args: argparse.Namespace, own: Path = BENCH_DIR) -> dict[str, str]:
    """The environment of a harness's server and commands: its files (the SQLite database and
    the embedded Redis, unless URLs say otherwise) under ``own``, apart from `make run`'s."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "leaderboard.settings.local",
        "VAR_DIR": str(own),
        "HOST": "127.0.0.1",
        "PORT": str(args.port),
        "ALLOWED_HOSTS": "127.0.0.1",
        "THROTTLE_ANON": "off",
        "THROTTLE_WRITES": "off",
    }
    env.pop("DEBUG", None)
    env["DATABASE_URL"] = args.database_url or f"sqlite:///{own / own.name}.sqlite3"
    if args.redis_url:
        env["REDIS_URL"] = args.redis_url
    else:
        env.pop("REDIS_URL", None)
        env["EMBEDDED_REDIS_DIR"] = str(own / "redis")
    return env


def _check_database(env: dict[str, str]) -> None:
    """Stop with what to do, not a traceback, when the database is not there."""
    probe = "from django.db import connection; connection.ensure_connection()"
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v0", "--no-imports", "-c", probe],
        cwd=ROOT,
        # The probe needs no Redis: "supervised" keeps it from starting an embedded one.
        env={**env, "EMBEDDED_REDIS": "supervised"},
        capture_output=True,
        text=True,
    )
    if done.returncode:
        reason = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "no answer"
        url = urlsplit(env["DATABASE_URL"])
        server = f"-h {url.hostname} -p {url.port or 5432} -U {url.username}"
        create = f"createdb {server} {url.path[1:]}"
        sys.exit(
            f"Cannot use the database at {env['DATABASE_URL']}: {reason}\n"
            f"Start the server, create the database ({create}), or leave out --database-url "
            "to use a SQLite file of the benchmark's own."
        )


def _wipe(env: dict[str, str], args: argparse.Namespace) -> None:
    """Empty the database and Redis that ``env`` names: without URLs, its own VAR_DIR."""
    own = Path(env["VAR_DIR"])
    if not args.database_url:
        shutil.rmtree(own, ignore_errors=True)
    own.mkdir(parents=True, exist_ok=True)
    manage(env, "migrate", "--noinput", "-v0")
    if args.database_url:
        manage(env, "flush", "--noinput")  # which makes the beat schedules again
    if args.redis_url:
        # In the background: a synchronous FLUSHDB of ten million keys outlasts the timeout.
        script = (
            "from django_redis import get_redis_connection as g;"
            "g('default').flushdb(asynchronous=True)"
        )
        manage(env, "shell", "-v0", "-c", script)


def manage(env: dict[str, str], *args: str, capture: bool = False) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=capture,
        text=True,
    )
    return done.stdout if capture else ""


def stop_servers_when_killed() -> None:
    """End this run on SIGTERM (a kill, a CI's timeout) as on Ctrl-C: by an exception, so that
    the servers it started are stopped on the way out. Python's default for SIGTERM is to die
    at once, which left `manage.py serve` holding the port, the database and Redis.

    A shell starts a background job with SIGINT ignored (CI runs the harnesses side by side
    that way), and a child inherits that: a `serve` stopped in its first second, before it
    sets its own handlers, then ignored the SIGINT meant to stop it and went on serving. With
    Python's own handler here, children start with SIGINT's default again."""

    def terminated(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminated)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _stop(server: subprocess.Popen[bytes]) -> None:
    """Stop ``manage.py serve`` as Ctrl-C does, or kill it if it does not stop."""
    server.send_signal(signal.SIGINT)
    try:
        server.wait(timeout=90)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


class Bench:
    def __init__(
        self, env: dict[str, str], args: argparse.Namespace, *, server_log: Path | None = None
    ) -> None:
        self.env, self.args, self.server_log = env, args, server_log
        self.base = f"http://127.0.0.1:{args.port}"
        self.paths = Path(tempfile.mkdtemp(prefix="bench-paths-"))
        self.users = 0

    @contextlib.contextmanager
    def serving(self, **settings: str) -> Iterator[None]:
        """`manage.py serve` (gunicorn, a Celery worker and beat, the embedded Redis), as
        `make run` starts it, with ``settings`` added to its environment; Django in this
        process too, to prepare and check."""
        serve_env = {**self.env, "EMBEDDED_REDIS": "supervised", **settings}
        with contextlib.ExitStack() as stack:
            log = stack.enter_context(self.server_log.open("a")) if self.server_log else None
            server = subprocess.Popen(
                [sys.executable, "manage.py", "serve"],
                cwd=ROOT,
                env=serve_env,
                stdout=log or subprocess.DEVNULL,
                stderr=subprocess.STDOUT,
            )
            stack.callback(_stop, server)
            self.server = server
            os.environ.update(serve_env)
            import django

            django.setup()
            self._wait_until_ready()
            self.token = manage(self.env, "issue_token", "benchmark", capture=True).strip()
            yield

    def _wait_until_ready(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, ValueError):
                if _get_json(f"{self.base}/readyz").get("index") == "ready":
                    return
            time.sleep(0.5)
        sys.exit("The server did not become ready; run `make run` with the same settings.")

    def measure(self, users: int) -> Size:
        size = Size(users)
        if self.args.keep:
            from users.models import User

            self.users = User.objects.alive().count()
        else:
            size.seed_s, size.seed_rss_mb = timed(
                self.env, "seed_users", "--count", str(users - self.users), "--seed", str(users)
            )
            self.users = users
            stalls = StallWatch()
            with stalls:
                size.rebuild_s, size.rebuild_rss_mb = timed(self.env, "rebuild_leaderboard")
            size.rebuild_longest_stall_ms = stalls.longest_ms
        size.redis_bytes_per_user = redis_bytes_per_user()
        size.winner_job_p50_ms = winner_job_p50_ms()
        self._wait_until_ready()
        self._prepare_paths()
        for name, target in self._scenarios():
            if not self.args.only or self.args.only in name or name.startswith("/healthz"):
                if name != FLOOR:
                    size.floors[name] = self._floor_now()
                size.loads[name] = self.load(*target)
        # The targets for these two are latencies, which one client shows without queueing.
        one_client: dict[str, str | Path] = {
            "grouped view, first page, 1 client": "/api/users/grouped-by-score/",
            "search, 3 letters, 1 client": self.paths / "search.txt",
        }
        for name, path in one_client.items():
            if not self.args.only or self.args.only in name:
                size.floors[name] = self._floor_now()
                size.loads[name] = self.load(path, connections=1)
        size.index_differences_after_writes = index_differences(self.env)
        return size

    def _prepare_paths(self) -> None:
        """Files of random paths for wrk: offsets, ids, scores and name fragments drawn from
        the board as it is."""
        from users.models import User

        draw = random.Random(self.users)
        alive = User.objects.alive()
        top = alive.order_by("-pk").values_list("pk", flat=True).first() or 1
        ids = set(
            alive.filter(pk__in=[draw.randint(1, top) for _ in range(12_000)]).values_list(
                "pk", flat=True
            )
        )
        ids_list = sorted(ids)[:10_000]
        scores = list(alive.values_list("points", flat=True)[:2000])
        names = list(alive.values_list("name", flat=True)[:500])
        fragments = {n.lower()[i : i + 3] for n in names for i in range(0, len(n) - 3, 4)}
        files = {
            "offsets": [f"/api/users/?offset={draw.randrange(max(1, self.users - 50))}"],
            "ids": [f"/api/users/{pk}/" for pk in ids_list],
            "around": [f"/api/users/{pk}/around/" for pk in ids_list],
            "points": [f"/api/users/?points={draw.choice(scores)}&offset={draw.randrange(200)}"],
            "search": [f"/api/users/?search={f}" for f in sorted(fragments) if f.isalpha()],
            "increment": [f"/api/users/{pk}/increment/" for pk in ids_list],
            "decrement": [f"/api/users/{pk}/decrement/" for pk in ids_list],
        }
        for name, lines in files.items():
            if name in {"offsets", "points"}:  # drawn afresh for each line
                template = lines[0]
                lines = [self._redraw(template, draw) for _ in range(10_000)]
            (self.paths / f"{name}.txt").write_text("\n".join(lines) + "\n")

    def _redraw(self, template: str, draw: random.Random) -> str:
        if "points=" in template:
            points = template.split("points=")[1].split("&")[0]
            return f"/api/users/?points={points}&offset={draw.randrange(200)}"
        return f"/api/users/?offset={draw.randrange(max(1, self.users - 50))}"

    def _scenarios(self) -> list[tuple[str, tuple[Any, ...]]]:
        p = self.paths
        return [
            (FLOOR, ("/healthz",)),  # always first
            ("board, top page of 50 (anonymous, identical)", ("/api/users/",)),
            ("board, random deep page of 50", (p / "offsets.txt",)),
            ("user detail with rank, random user", (p / "ids.txt",)),
            ("around a random user (5 each side)", (p / "around.txt",)),
            ("?points=<p>&offset=<o>", (p / "points.txt",)),
            ("grouped view, first page (50 groups x 10)", ("/api/users/grouped-by-score/",)),
            ("search, 3 letters", (p / "search.txt",)),
            ("increment, random user, token", (p / "increment.txt", "POST")),
            ("decrement, random user, token", (p / "decrement.txt", "POST")),
        ]

    def _floor_now(self) -> Load:
        return self.load("/healthz", seconds=min(FLOOR_SECONDS, self.args.seconds))

    def load(
        self, target: str | Path, method: str = "GET", connections: int = 0, seconds: float = 0
    ) -> Load:
        connections = connections or self.args.connections
        seconds = seconds or self.args.seconds
        if not shutil.which("wrk"):
            return python_load(self.base, target, method, self.token, connections, seconds)
        command = ["wrk", "-t", str(min(2, connections)), "-c", str(connections)]
        command += ["-d", f"{max(1, round(seconds))}s", "--latency", "--timeout", "5s"]
        if isinstance(target, Path):
            extra = [str(target), *(["POST", self.token] if method == "POST" else [])]
            command += ["-s", str(PATHS_LUA), self.base, "--", *extra]
        else:
            command.append(self.base + target)
        # A short warm-up, so that no scenario pays for another's first requests.
        subprocess.run([*command[:5], "-d", "1s", *command[7:]], capture_output=True, check=False)
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        return _parse_wrk(out)

    def seed_under_load(self, size: Size) -> None:
        """Seed ``--during-seed`` users beside the live service, and load it meanwhile and in
        each minute after: a bulk write must not send reads to the database's slow path. The
        steady state is the median of the same bursts, just before the seed. The bursts go
        into ``size``'s loads, for the JSON file."""
        names: dict[str, tuple[Path, str]] = {
            "detail": (self.paths / "ids.txt", "GET"),
            "increment": (self.paths / "increment.txt", "POST"),
        }
        seconds = self.args.seconds
        rows: list[tuple[str, dict[str, Load]]] = []

        def burst(phase: str) -> None:
            loads = {
                kind: self.load(path, method, seconds=seconds)
                for kind, (path, method) in names.items()
            }
            rows.append((phase, loads))
            print(f"  {phase}: " + ", ".join(f"{k} {v.rate:.0f} req/s" for k, v in loads.items()))

        count = self.args.during_seed
        print(f"\nSeeding {count:,} more users beside the service, loaded meanwhile…")
        for _ in range(STEADY_BURSTS):
            burst("steady, before")
        steady = {kind: statistics.median(loads[kind].rate for _, loads in rows) for kind in names}
        with tempfile.TemporaryFile("w+", errors="replace") as said:
            seeding = subprocess.Popen(
                [sys.executable, "manage.py", "seed_users", "--count", str(count)],
                cwd=ROOT,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=said,
            )
            while seeding.poll() is None:
                burst("during the seed")
            last = _last_lines(said, 1)  # the bar: how long the seed gave way
        if seeding.returncode:
            sys.exit("seed_users failed; run it alone to see why.")
        print(f"  the seed's last progress: {''.join(last) or '(none)'}")
        self.users += count
        ended = time.monotonic()
        for minute in range(1, self.args.minutes_after + 1):
            burst(f"minute {minute} after")
            time.sleep(max(0.0, ended + 60 * minute - time.monotonic()))
        print(
            f"\n| {'phase':<20} | {'detail req/s':>12} | {'x steady':>8} | {'p50 ms':>6} | "
            f"{'increment req/s':>15} | {'x steady':>8} | {'p50 ms':>6} | {'errors':>6} |"
        )
        print(
            f"|{'-' * 22}|{'-' * 14}|{'-' * 10}|{'-' * 8}|{'-' * 17}|{'-' * 10}|{'-' * 8}|"
            f"{'-' * 8}|"
        )
        worst = 1.0
        for phase, loads in rows:
            ratios = {kind: loads[kind].rate / steady[kind] for kind in names}
            worst = min(worst, *ratios.values())
            errors = sum(load.errors for load in loads.values())
            detail, increment = loads["detail"], loads["increment"]
            print(
                f"| {phase:<20} | {detail.rate:>12.0f} | {ratios['detail']:>8.2f} | "
                f"{detail.p50_ms:>6.1f} | {increment.rate:>15.0f} | {ratios['increment']:>8.2f} | "
                f"{increment.p50_ms:>6.1f} | {errors:>6} |"
            )
        print(f"\nLowest ratio to the steady state: {worst:.2f} (the goal: 0.8 or more)")
        # Numbered: a phase has many bursts, and each is kept.
        size.loads.update(
            {
                f"{phase} ({n}): {kind}": load
                for n, (phase, loads) in enumerate(rows, 1)
                for kind, load in loads.items()
            }
        )

    @contextlib.contextmanager
    def granian(self) -> Iterator[str]:
        """The same WSGI application served by granian on the next port, with gunicorn's
        processes and threads (leaderboard/gunicorn.conf.py), beside `make run`'s, on the same
        database and Redis; its base URL."""
        port = self.args.port + 1
        server = subprocess.Popen(
            [
                *(str(Path(sys.executable).with_name("granian")), "--interface", "wsgi"),
                *("--host", "127.0.0.1", "--port", str(port), "--no-ws", "--log-level", "error"),
                *("--workers", self.env.get("WEB_CONCURRENCY", "2")),
                *("--blocking-threads", self.env.get("WEB_THREADS", "8")),
                "leaderboard.wsgi:application",
            ],
            cwd=ROOT,
            env={**self.env, "EMBEDDED_REDIS": "supervised", "PORT": str(port)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while not _answers(f"{base}/healthz"):
                if server.poll() is not None or time.monotonic() > deadline:
                    sys.exit("granian did not start; run its command alone to see why.")
                time.sleep(0.2)
            yield base
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=30)

    def compare_servers(self) -> None:
        """gunicorn (`make run`'s) against granian, serving the same application: each
        scenario on one server then the other, each with its own /healthz just before."""
        scenarios = {
            name: target
            for name, target in self._scenarios()
            if name == FLOOR or name.startswith(("user detail", "board, random", "increment"))
        }
        print("\nThe same application under gunicorn (make run's) and granian, in turns…")
        with self.granian() as granian_base:
            bases = {"gunicorn": self.base, "granian": granian_base}
            rows: dict[str, dict[str, tuple[Load, Load]]] = {}
            for name, target in scenarios.items():
                for server, base in bases.items():
                    self.base = base
                    try:
                        floor = self._floor_now() if name != FLOOR else None
                        load = self.load(*target)
                        rows.setdefault(name, {})[server] = (load, floor or load)
                    finally:
                        self.base = bases["gunicorn"]
        print(
            f"\n| {'scenario':<40} | {'gunicorn/s':>10} | {'x floor':>7} | {'p99 ms':>7} | "
            f"{'granian/s':>10} | {'x floor':>7} | {'p99 ms':>7} | {'granian/gunicorn':>16} |"
        )
        print(f"|{'-' * 42}|" + "|".join("-" * width for width in (12, 9, 9, 12, 9, 9, 18)) + "|")
        for name, by_server in rows.items():
            cells = []
            for load, floor in by_server.values():
                ratio = load.rate / floor.rate if floor.rate else 0
                cells.append(f"{load.rate:>10.0f} | {ratio:>7.2f} | {load.p99_ms:>7.1f}")
            (g, _), (r, _) = by_server["gunicorn"], by_server["granian"]
            print(f"| {name[:40]:<40} | {' | '.join(cells)} | {r.rate / g.rate:>16.2f} |")

    def throttle_cost(self, unthrottled: Size) -> None:
        """The same reads again, served with throttling on at a rate that never refuses: what
        counting each client's requests costs."""
        never = "1000000000/minute"
        print(f"\nThrottling's cost: the reads again, served with THROTTLE_ANON={never}")
        print(f"  {'scenario':<52} {'off req/s':>10} {'on req/s':>10} {'on/off':>7}")
        with self.serving(THROTTLE_ANON=never, THROTTLE_WRITES=never):
            for name, target in self._scenarios():
                if name not in unthrottled.loads or "token" in name:
                    continue
                off, on = unthrottled.loads[name], self.load(*target)
                ratio = on.rate / off.rate if off.rate else 0.0
                print(f"  {name:<52} {off.rate:>10.0f} {on.rate:>10.0f} {ratio:>7.2f}")


class StallWatch:
    """The longest any other client waited on Redis while something ran: a PING every
    millisecond, from a thread of this process."""

    def __init__(self) -> None:
        self.longest_ms = 0.0
        self._stop = threading.Event()

    def __enter__(self) -> StallWatch:
        from django_redis import get_redis_connection

        redis = get_redis_connection("default")

        def watch() -> None:
            while not self._stop.is_set():
                started = time.perf_counter()
                with contextlib.suppress(Exception):
                    redis.ping()
                self.longest_ms = max(self.longest_ms, (time.perf_counter() - started) * 1000)
                time.sleep(0.001)

        self._thread = threading.Thread(target=watch, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def timed(env: dict[str, str], *args: str) -> tuple[float, float]:
    """Wall time and peak resident memory (MB) of one `manage.py` run."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+", errors="replace") as errors:
        child = subprocess.Popen(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
        _, status, usage = os.wait4(child.pid, 0)
        if os.waitstatus_to_exitcode(status):
            said = "\n".join(_last_lines(errors, 5))  # they say why
            sys.exit(f"manage.py {' '.join(args)} failed:\n{said}")
    return time.perf_counter() - started, usage.ru_maxrss / 1024


def _last_lines(written: IO[str], count: int) -> list[str]:
    """The last ``count`` lines a command wrote to the file ``written``. A progress bar's
    redraws end in carriage returns, so each counts as a line."""
    written.seek(0)
    return written.read().replace("\r", "\n").strip().splitlines()[-count:]


def redis_bytes_per_user() -> dict[str, float]:
    """Bytes per user of the live generation's keys (MEMORY USAGE), by kind, once the old
    generation has been freed."""
    from django_redis import get_redis_connection

    from users.ranking.health import keys

    redis = get_redis_connection("default")
    while redis.info("memory").get("lazyfree_pending_objects", 0):
        time.sleep(0.2)
    prefix = keys().generation(redis.get(keys().current).decode())
    users = redis.zcard(prefix + "board") or 1
    kinds = {"board": 0, "state (versions and ages)": 0, "aggregates and fingerprint": 0}
    for key in redis.scan_iter(match=prefix + "*", count=5000):
        name = key.decode()[len(prefix) :]
        kind = "board" if name == "board" else "state (versions and ages)"
        if name not in {"board"} and not name.startswith("s:"):
            kind = "aggregates and fingerprint"
        # Exact for the small keys; the board's figure is extrapolated from 50,000 of its
        # members, since an exact count walks all of them and blocks Redis meanwhile.
        samples = 50_000 if name == "board" else 0
        kinds[kind] += redis.memory_usage(key, samples=samples) or 0
    figures = {kind: total / users for kind, total in kinds.items()}
    figures["all"] = sum(figures.values())
    return figures


def winner_job_p50_ms() -> float:
    """The winner job's decision (the board's top two, in one indexed query), 50 times."""
    from django.utils import timezone

    from winners.services import winner_declare

    times = []
    for _ in range(50):
        started = time.perf_counter()
        winner_declare(at=timezone.now())
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def index_differences(env: dict[str, str]) -> int:
    out = subprocess.run(
        [sys.executable, "manage.py", "check_leaderboard", "--rows"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    match = re.search(r"differ row for row: (\d+)", out)
    return int(match.group(1)) if match else -1


def _get_json(url: str) -> dict[str, Any]:
    import urllib.request

    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def _answers(url: str) -> bool:
    try:
        _get_json(url)
    except (OSError, ValueError):
        return False
    return True


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _parse_wrk(out: str) -> Load:
    def latency(label: str) -> float:
        match = re.search(rf"{label}\s+([\d.]+)(us|ms|s)\b", out)
        return float(match.group(1)) * _UNITS[match.group(2)] if match else float("nan")

    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: .*?(\d+) timeout", out)
    return Load(
        rate=float(rate.group(1)) if rate else 0.0,
        p50_ms=latency("50%"),
        p99_ms=latency("99%"),
        errors=(int(non2xx.group(1)) if non2xx else 0) + (int(errors.group(1)) if errors else 0),
    )


def python_load(
    base: str, target: str | Path, method: str, token: str, connections: int, seconds: float
) -> Load:
    """A fallback when wrk is missing: threads of keep-alive clients in this process."""
    import http.client
    from urllib.parse import urlsplit

    paths = target.read_text().split() if isinstance(target, Path) else [target]
    host = urlsplit(base)
    latencies: list[float] = []
    errors = [0]
    stop_at = time.monotonic() + seconds

    def client(n: int) -> None:
        draw = random.Random(n)
        connection = http.client.HTTPConnection(host.hostname or "127.0.0.1", host.port, timeout=10)
        headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                body = "{}" if method == "POST" else None
                connection.request(method, draw.choice(paths), body, headers if body else {})
                response = connection.getresponse()
                response.read()
                if response.status >= 300:
                    errors[0] += 1
            except (OSError, http.client.HTTPException):
                errors[0] += 1
                connection = http.client.HTTPConnection(
                    host.hostname or "127.0.0.1", host.port, timeout=10
                )
                continue
            latencies.append((time.perf_counter() - started) * 1000)

    workers = [threading.Thread(target=client, args=(n,)) for n in range(connections)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    latencies.sort()
    if not latencies:
        return Load(0.0, float("nan"), float("nan"), errors[0])
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return Load(len(latencies) / seconds, statistics.median(latencies), p99, errors[0])


def _floor(size: Size, name: str) -> Load:
    """The /healthz figure that scenario ``name`` is given relative to: the one measured just
    before it (the machine's state drifts within a run: the floor has moved by half between
    one scenario and the next), else the first one."""
    return size.floors.get(name) or size.loads[FLOOR]


def _print_size(size: Size, args: argparse.Namespace) -> None:
    print(f"## {size.users:,} users\n")
    print(f"- seed_users (added users): {size.seed_s:.1f} s, peak RSS {size.seed_rss_mb:.0f} MB")
    print(
        f"- rebuild_leaderboard: {size.rebuild_s:.1f} s, peak RSS {size.rebuild_rss_mb:.0f} MB; "
        f"longest wait of another Redis client meanwhile: {size.rebuild_longest_stall_ms:.1f} ms"
    )
    memory = ", ".join(f"{kind} {b:.1f}" for kind, b in size.redis_bytes_per_user.items())
    print(f"- Redis bytes per user: {memory}")
    print(f"- winner job (top two, one query): p50 {size.winner_job_p50_ms:.2f} ms")
    print(f"- index vs database after the writes: {size.index_differences_after_writes} differ\n")
    print(
        f"wrk, {args.connections} connections, {args.seconds:.0f} s a scenario, "
        f"on the server's {os.cpu_count()} CPUs\n"
    )
    print(
        f"| {'scenario':<48} | {'req/s':>7} | {'p50 ms':>7} | {'p99 ms':>7} | "
        f"{'floor/s':>7} | {'x floor':>7} | {'errors':>6} |"
    )
    print(f"|{'-' * 50}|{'-' * 9}|{'-' * 9}|{'-' * 9}|{'-' * 9}|{'-' * 9}|{'-' * 8}|")
    for name, load in size.loads.items():
        floor = _floor(size, name)
        ratio = load.rate / floor.rate if floor.rate else 0
        print(
            f"| {name:<48} | {load.rate:>7.0f} | {load.p50_ms:>7.1f} | {load.p99_ms:>7.1f} | "
            f"{floor.rate:>7.0f} | {ratio:>7.2f} | {load.errors:>6} |"
        )
    print()


def _print_growth(results: list[Size]) -> None:
    """Each endpoint's p50 relative to /healthz's in the same state, as a multiple of that
    figure at the smallest size: a machine slower overall is not growth."""
    if len(results) < 2:
        return
    first = results[0]
    print("## Growth: p50 relative to /healthz, as a multiple of the smallest size's\n")
    header = " | ".join(f"{r.users:>10,}" for r in results)
    print(f"| {'scenario':<48} | {header} |")
    print(f"|{'-' * 50}|" + "|".join("-" * 12 for _ in results) + "|")
    rows = [name for name in first.loads if name != FLOOR]
    for name in [*rows, "winner job"]:
        cells = []
        for r in results:
            if name == "winner job":
                value, base = r.winner_job_p50_ms, first.winner_job_p50_ms
                cells.append(value / base if base else 0)
                continue
            floor, base_floor = _floor(r, name), _floor(first, name)
            relative = r.loads[name].p50_ms / floor.p50_ms
            base = first.loads[name].p50_ms / base_floor.p50_ms
            cells.append(relative / base if base else 0)
        print(f"| {name:<48} | " + " | ".join(f"{c:>10.2f}" for c in cells) + " |")
    print()


def _write(results: list[Size], args: argparse.Namespace, db_kind: str) -> None:
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    name = f"{stamp}-{db_kind.lower()}-{'smoke' if args.smoke else 'full'}.json"
    (RESULTS / name).write_text(
        json.dumps(
            {"args": vars(args), "cpus": os.cpu_count(), "sizes": [asdict(r) for r in results]},
            indent=2,
            default=str,  # paths among the arguments
        )
    )
    print(f"Wrote benchmarks/results/{name}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
