"""Fuzz the API from its own OpenAPI document with schemathesis, against a live server.

    make schemathesis                                   # 50 examples an operation
    make schemathesis SCHEMATHESIS_ARGS="--max-examples 200"

It serves the whole stack with `manage.py serve`, as `make run` does, on its own SQLite file
and embedded Redis under var/fuzz/, with 200 seeded users and a token; then runs every check
schemathesis has (schemathesis.toml states the two cross-parameter rules OpenAPI cannot). It
exits non-zero on any finding: a 5xx, an answer the schema does not describe, a rejected valid
request or an accepted invalid one. Throttling is off: one client sending thousands of
requests is what it refuses.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from run import ROOT, Bench, _environment, _wipe, manage

FUZZ_DIR = ROOT / "var" / "fuzz"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--max-examples", type=int, default=50, help="per operation")
    parser.add_argument("--max-time", type=int, default=240, help="seconds, for the whole run")
    parser.add_argument("--port", type=int, default=8096)
    args = parser.parse_args()
    # What the benchmark's harness reads.
    args.database_url = args.redis_url = None
    args.seconds, args.connections, args.only = 1.0, 1, None

    env = _environment(args, FUZZ_DIR)
    _wipe(env, args)
    manage(env, "seed_users", "--count", "200", "--seed", "1")
    bench = Bench(env, args)
    st = Path(sys.executable).with_name("st")
    try:
        with bench.serving():
            command = [
                str(st), "run", f"{bench.base}/api/schema/",
                "--checks", "all",
                "--header", f"Authorization: Token {bench.token}",
                "--max-examples", str(args.max_examples),
                "--max-time", str(args.max_time),
                "--seed", "1",
                # One worker: Python 3.11.7's ast.parse is not thread-safe, and hypothesis
                # parses lambdas while it describes strategies.
                "--workers", "1",
                "--request-timeout", "10",
            ]  # fmt: skip
            status = subprocess.run(command, cwd=ROOT, check=False).returncode
    finally:
        shutil.rmtree(bench.paths, ignore_errors=True)
    sys.exit(status)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
