"""Where a request's CPU goes: run a wrk command and print, per request, the CPU time each kind
of process on this machine spent meanwhile (the web workers, PostgreSQL, Redis, Celery, wrk).

    .venv/bin/python benchmarks/cpu.py wrk -t2 -c16 -d8s --latency http://127.0.0.1:8000/healthz

A ratio to /healthz says how much more an endpoint costs; this says who pays it: the workers'
Python, or the database and Redis beside them on the same CPUs. It reads /proc, so Linux only,
and counts every process of a kind, whoever started it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def _kind(command: str) -> str | None:
    """The kind of a process, by its command line."""
    program = command.split(" ", 1)[0]
    if program.startswith("postgres:") or program.endswith("/postgres"):
        return "postgres"  # a backend, or the server itself
    if program.endswith("redis-server"):
        return "redis"
    if "-m gunicorn" in command or program.endswith("gunicorn"):
        return "web"
    if "celery" in command:
        return "celery"
    return None


def _cpu_by_process() -> dict[int, tuple[str, float, float]]:
    """Each process of a known kind: its kind, and its CPU seconds so far (user and system,
    and system alone)."""
    found = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # it ended meanwhile
            continue
        kind = _kind(command)
        if kind is not None:
            fields = stat.rsplit(")", 1)[1].split()
            user, system = int(fields[11]) / _TICKS, int(fields[12]) / _TICKS
            found[int(proc.name)] = (kind, user + system, system)
    return found


def _spent(before: dict[int, tuple[str, float, float]]) -> defaultdict[str, float]:
    """CPU seconds each kind spent since ``before`` (a process that ended meanwhile is not
    counted); the web workers' system time also apart, as "web-sys"."""
    spent: defaultdict[str, float] = defaultdict(float)
    for pid, (kind, cpu, system) in _cpu_by_process().items():
        _, cpu_before, system_before = before.get(pid, (kind, 0.0, 0.0))
        spent[kind] += cpu - cpu_before
        if kind == "web":
            spent["web-sys"] += system - system_before
    return spent


def main(command: list[str]) -> None:
    before = _cpu_by_process()
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    spent = _spent(before)
    counted = re.search(r"(\d+) requests in", done.stdout)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
    if counted is None or rate is None or not int(counted.group(1)):
        sys.exit(f"wrk answered no requests:\n{done.stdout}{done.stderr}")
    requests = int(counted.group(1))
    spent["wrk"] = os.times().children_user + os.times().children_system
    total = sum(v for kind, v in spent.items() if kind != "web-sys")
    print(
        f"{float(rate.group(1)):,.0f} req/s; CPU µs a request: "
        + ", ".join(
            f"{kind} {v / requests * 1e6:,.0f}" for kind, v in sorted(spent.items()) if v > 0
        )
        + f"; all {total / requests * 1e6:,.0f}"
    )


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] != "wrk":
        sys.exit(__doc__)
    main(sys.argv[1:])
