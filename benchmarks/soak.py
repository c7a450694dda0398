"""A soak: a mixed load (90% reads, 10% ± changes) on a seeded board for ten minutes, served
by `manage.py serve` as `make run` starts it.

    make soak                                     # 1M users, 600 s, SQLite and embedded Redis
    make soak SOAK_ARGS="--database-url postgres://postgres@127.0.0.1:5432/bench \\
        --redis-url redis://127.0.0.1:6379/9"
    make soak SOAK_ARGS="--users 10000 --seconds 20"   # CI's short version

It prints, for each minute (--segment), the rate, p50 and p99 and the count of 5xx answers;
the resident memory of every process of the service at the start and at the end; and whether
the index equals the database afterwards. Like `make benchmark`, it WIPES the database and the Redis
database it is given, and runs with throttling off: one address sending thousands of requests
a second is exactly what throttling refuses.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from run import (
    RESULTS,
    ROOT,
    Bench,
    _check_database,
    _environment,
    _parse_wrk,
    _wipe,
    index_differences,
    manage,
    stop_servers_when_killed,
)

SOAK_DIR = ROOT / "var" / "soak"

MIXED_LUA = Path(__file__).resolve().parent / "wrk" / "mixed.lua"


@dataclass
class Minute:
    seconds: float
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    server_errors: int
    throttled: int
    socket_errors: int


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=600.0, help="how long to load")
    parser.add_argument("--segment", type=float, default=60.0, help="seconds per reported row")
    parser.add_argument("--writes", type=int, default=10, help="percent of requests that write")
    parser.add_argument("--database-url", help="a database to wipe and use (default: SQLite)")
    parser.add_argument("--redis-url", help="a Redis database to wipe and use (default: embedded)")
    parser.add_argument("--connections", type=int, default=16, help="wrk's connections")
    parser.add_argument("--port", type=int, default=8098)
    parser.add_argument(
        "--keep", action="store_true", help="reuse the users already there (no wipe, no seed)"
    )
    args = parser.parse_args()
    stop_servers_when_killed()
    if not shutil.which("wrk"):
        sys.exit("The soak needs wrk: apt-get install wrk (Debian), then run it again.")
    # What Bench reads from the benchmark's own arguments.
    args.smoke, args.only, args.throttle_cost = False, None, False

    # Its own files, apart from `make run`'s and the benchmark's, so that either can run beside.
    env = _environment(args, SOAK_DIR)
    _check_database(env)
    if not args.keep:
        _wipe(env, args)
    bench = Bench(env, args)
    try:
        # Seeded under `serve`, as the benchmark does: a command run before it would start an
        # embedded Redis of its own, which would outlive the soak.
        with bench.serving():
            if not args.keep:
                print(f"Seeding {args.users:,} users…", flush=True)
                manage(env, "seed_users", "--count", str(args.users), "--seed", "1")
            manage(env, "rebuild_leaderboard")
            bench._wait_until_ready()
            from users.models import User

            bench.users = User.objects.alive().count()
            bench._prepare_paths()
            reads, writes = _mixed_paths(bench.paths)
            started_rss = service_rss(bench.server.pid)
            minutes = []
            left = args.seconds
            print(f"\nLoading {bench.users:,} users for {args.seconds:.0f} s…\n", flush=True)
            while left > 0:
                minutes.append(_segment(bench, args, min(args.segment, left), reads, writes))
                _print_minute(len(minutes), minutes[-1])
                left -= args.segment
            ended_rss = service_rss(bench.server.pid)
            redis_memory = _redis_used_memory()
            differences = index_differences(env)
    finally:
        shutil.rmtree(bench.paths, ignore_errors=True)
    _report(args, bench.users, minutes, started_rss, ended_rss, redis_memory, differences)


def _mixed_paths(paths: Path) -> tuple[Path, Path]:
    """One file of reads (pages, details, neighbourhoods, groups) and one of ± writes."""
    reads = paths / "mixed-reads.txt"
    lines = []
    for name in ("offsets", "ids", "around", "points"):
        lines += (paths / f"{name}.txt").read_text().split()
    lines += ["/api/users/", "/api/users/grouped-by-score/"] * 500
    reads.write_text("\n".join(lines) + "\n")
    writes = paths / "mixed-writes.txt"
    changes = (paths / "increment.txt").read_text().split()
    changes += (paths / "decrement.txt").read_text().split()
    writes.write_text("\n".join(changes) + "\n")
    return reads, writes


def _segment(
    bench: Bench, args: argparse.Namespace, seconds: float, reads: Path, writes: Path
) -> Minute:
    command = ["wrk", "-t", "2", "-c", str(args.connections), "-d", f"{max(1, round(seconds))}s"]
    command += ["--latency", "--timeout", "5s", "-s", str(MIXED_LUA), bench.base, "--"]
    command += [str(reads), str(writes), bench.token, str(args.writes)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    load = _parse_wrk(out)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
        out,
    )
    return Minute(
        seconds=seconds,
        requests_per_s=load.rate,
        p50_ms=load.p50_ms,
        p99_ms=load.p99_ms,
        server_errors=_count(out, "5xx"),
        throttled=_count(out, "429"),
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
    )


def _count(out: str, label: str) -> int:
    match = re.search(rf"^{label}: (\d+)$", out, re.MULTILINE)
    return int(match.group(1)) if match else -1


def service_rss(root: int) -> dict[str, float]:
    """Resident memory (MB) of ``root`` and every process under it, by pid and command."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = {}, [root]
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            status = (Path("/proc") / str(pid) / "status").read_text()
            argv = (Path("/proc") / str(pid) / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        rss = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
        words = [Path(a.decode()).name if i == 0 else a.decode() for i, a in enumerate(argv) if a]
        found[f"{pid} {' '.join(words)[:60]}"] = int(rss.group(1)) / 1024 if rss else 0.0
    return found


def _redis_used_memory() -> float:
    from django_redis import get_redis_connection

    return get_redis_connection("default").info("memory")["used_memory"] / 2**20


def _print_minute(n: int, minute: Minute) -> None:
    if n == 1:
        print(f"| {'segment':>7} | {'req/s':>7} | {'p50 ms':>7} | {'p99 ms':>7} | {'5xx':>5} |")
        print(f"|{'-' * 9}|{'-' * 9}|{'-' * 9}|{'-' * 9}|{'-' * 7}|")
    print(
        f"| {n:>7} | {minute.requests_per_s:>7.0f} | {minute.p50_ms:>7.1f} | "
        f"{minute.p99_ms:>7.1f} | {minute.server_errors:>5} |",
        flush=True,
    )


def _report(
    args: argparse.Namespace,
    users: int,
    minutes: list[Minute],
    started: dict[str, float],
    ended: dict[str, float],
    redis_memory: float,
    differences: int,
) -> None:
    errors = sum(m.server_errors for m in minutes)
    sockets = sum(m.socket_errors for m in minutes)
    print(f"\n5xx answers: {errors}; socket errors or timeouts: {sockets}")
    print("\nResident memory of the service's processes (MB):\n")
    print(f"| {'process':<62} | {'start':>7} | {'end':>7} |")
    print(f"|{'-' * 64}|{'-' * 9}|{'-' * 9}|")
    for name in sorted(started.keys() | ended.keys(), key=lambda n: int(n.split()[0])):
        first, last = started.get(name), ended.get(name)
        cells = [f"{v:>7.0f}" if v is not None else f"{'—':>7}" for v in (first, last)]
        print(f"| {name:<62} | {cells[0]} | {cells[1]} |")
    print(f"\nRedis used_memory at the end: {redis_memory:.0f} MB")
    print(f"Index vs database afterwards: {differences} rows differ")
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"{stamp}-soak.json"
    figures = {
        "args": vars(args),
        "users": users,
        "minutes": [asdict(m) for m in minutes],
        "rss_start_mb": started,
        "rss_end_mb": ended,
        "redis_used_memory_mb": redis_memory,
        "index_differences": differences,
    }
    path.write_text(json.dumps(figures, indent=2))
    print(f"Wrote {path.relative_to(ROOT)}")
    if errors or differences:
        sys.exit(1)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    main()
