"""Figures at scale: seed N users, rebuild the index, then load the read API over HTTP.

    make benchmark                                   # 1M users, SQLite + embedded Redis
    make benchmark BENCHMARK_ARGS="--users 100000"
    make benchmark BENCHMARK_ARGS="--database-url postgres://postgres@127.0.0.1:5432/bench \\
                                   --redis-url redis://127.0.0.1:6379/9"

The database and the Redis database it is given are WIPED. Without URLs it uses its own
SQLite file and its own embedded Redis under var/bench/, apart from `make run`'s.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from leaderboard import embedded_redis  # noqa: E402

BENCH_DIR = ROOT / "var" / "bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--database-url", help="a database to wipe and use (default: SQLite)")
    parser.add_argument("--redis-url", help="a Redis database to wipe and use (default: embedded)")
    parser.add_argument("--seconds", type=float, default=10.0, help="per read scenario")
    parser.add_argument("--clients", type=int, default=16, help="concurrent HTTP clients")
    parser.add_argument("--port", type=int, default=8099)
    args = parser.parse_args()

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "leaderboard.settings.local"}
    env.pop("DEBUG", None)
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    else:
        shutil.rmtree(BENCH_DIR / "db", ignore_errors=True)
        (BENCH_DIR / "db").mkdir(parents=True)
        env["DATABASE_URL"] = f"sqlite:///{BENCH_DIR / 'db' / 'bench.sqlite3'}"
    if args.redis_url:
        env["REDIS_URL"] = args.redis_url
    else:
        env["EMBEDDED_REDIS_DIR"] = str(BENCH_DIR / "redis")
    db_kind = "PostgreSQL" if "postgres" in env["DATABASE_URL"] else "SQLite"
    redis_kind = "Redis at REDIS_URL" if args.redis_url else "embedded Redis"
    print(f"# {args.users:,} users on {db_kind} with {redis_kind}, {os.cpu_count()} CPUs\n")

    manage(env, "migrate", "--noinput", "-v0")
    if args.database_url:
        manage(env, "flush", "--noinput")
    manage(
        env,
        "shell",
        "-v0",
        "-c",
        "from django_redis import get_redis_connection as g;g('default').flushdb()",
    )

    seconds, peak = timed(env, "seed_users", "--count", str(args.users), "--seed", "1")
    print(f"seed_users --count {args.users:,}: {seconds:.1f} s, peak RSS {peak:.0f} MB")
    seconds, peak = timed(env, "rebuild_leaderboard")
    print(f"rebuild_leaderboard:            {seconds:.1f} s, peak RSS {peak:.0f} MB\n")

    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "leaderboard.wsgi:application",
            "--bind",
            f"127.0.0.1:{args.port}",
            "--workers",
            "4",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={**env, "ALLOWED_HOSTS": "127.0.0.1"},
    )
    try:
        wait_until_ready(args.port)
        ids = json.loads(get(args.port, f"/api/users/?limit=500&offset={args.users // 2}"))[
            "results"
        ]
        scenarios = {
            "GET /api/users/ (top page of 50)": lambda r: "/api/users/",
            "GET /api/users/?offset=<deep> (page of 50)": lambda r: (
                f"/api/users/?offset={r.randrange(args.users - 50)}"
            ),
            "GET /api/users/{id}/ (with rank)": lambda r: f"/api/users/{r.choice(ids)['id']}/",
            "GET /api/users/?points=<p>&offset=<o>": lambda r: (
                f"/api/users/?points={r.randrange(101)}&offset={r.randrange(5000)}"
            ),
            "GET /api/users/grouped-by-score/?users_per_group=10": lambda r: (
                "/api/users/grouped-by-score/?users_per_group=10"
            ),
        }
        print(
            f"Reads over HTTP: gunicorn, 4 workers; {args.clients} keep-alive clients, "
            f"{args.seconds:.0f} s each, on the same {os.cpu_count()} CPUs"
        )
        print(f"{'scenario':<55}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
        for name, path in scenarios.items():
            rate, p50, p99, errors = load(args.port, path, args.clients, args.seconds)
            print(f"{name:<55}{rate:>8.0f}{p50:>9.1f}{p99:>9.1f}{errors:>8}")
    finally:
        server.terminate()
        server.wait()
        if not args.redis_url:
            embedded_redis.stop(BENCH_DIR / "redis")


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def timed(env: dict[str, str], *args: str) -> tuple[float, float]:
    """Wall time and peak resident memory (MB) of one `manage.py` run."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status):
        sys.exit(f"manage.py {' '.join(args)} failed")
    return time.perf_counter() - started, usage.ru_maxrss / 1024


def get(port: int, path: str) -> bytes:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path)
    return connection.getresponse().read()


def wait_until_ready(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            get(port, "/readyz")
            return
        except OSError:
            time.sleep(0.2)
    sys.exit("gunicorn did not start")


def load(port: int, path, clients: int, seconds: float) -> tuple[float, float, float, int]:
    """Requests per second and latency percentiles, from 2 forked processes of client threads
    (forked, so that each scenario's path function needs no pickling)."""
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    processes = [
        context.Process(
            target=_client_process, args=(port, path, clients // 2, seconds, i, results)
        )
        for i in range(2)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get() for _ in processes]
    for process in processes:
        process.join()
    latencies = sorted(lat for outcome in outcomes for lat in outcome[0])
    errors = sum(outcome[1] for outcome in outcomes)
    if not latencies:
        return 0.0, 0.0, 0.0, errors
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return len(latencies) / seconds, statistics.median(latencies) * 1000, p99 * 1000, errors


def _client_process(port, path, threads, seconds, seed, results):
    latencies: list[float] = []
    errors = [0]
    stop_at = time.monotonic() + seconds

    def client(n: int) -> None:
        r = random.Random(seed * 1000 + n)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                connection.request("GET", path(r))
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    errors[0] += 1
                    continue
            except (OSError, http.client.HTTPException):
                errors[0] += 1
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            latencies.append(time.perf_counter() - started)

    workers = [threading.Thread(target=client, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    results.put((latencies, errors[0]))


if __name__ == "__main__":
    main()
