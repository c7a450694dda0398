"""Run a command against a MongoDB server of its own: `make test-mongo` with no MONGODB_URL.

    python tests/mongo_server.py [--workers N] -- COMMAND [ARG ...]

starts SecantusDB (requirements-dev.txt; a MongoDB-compatible server, a one-node replica set
with transactions) on a free loopback port with a temporary storage directory, runs COMMAND
with DATABASE_URL pointing at it, then stops the server and removes the directory, whatever
COMMAND did. With ``--workers N`` it starts N servers and hands their addresses to the
pytest-xdist workers in MONGODB_WORKER_URLS (tests/conftest.py gives each worker its own):
SecantusDB is written in Python, so one server would be the suite's bottleneck.

The exit status is COMMAND's, or 2 when a server did not start.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

DATABASE = "leaderboard"
STARTUP_SECONDS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    """Until the server answers a ping as a writable primary, or fail if it died."""
    import pymongo  # the project's own driver (requirements.txt)

    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"SecantusDB exited with {server.returncode}:\n{log.read_text()}")
        client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(
            url, serverSelectionTimeoutMS=500
        )
        try:
            if client.admin.command("hello").get("isWritablePrimary"):
                return
        except pymongo.errors.PyMongoError:
            pass
        finally:
            client.close()
        time.sleep(0.2)
    raise RuntimeError(f"SecantusDB did not answer in {STARTUP_SECONDS} s:\n{log.read_text()}")


@contextlib.contextmanager
def secantus(directory: Path) -> Iterator[str]:
    """A running server with its data in ``directory``; its connection string."""
    port = free_port()
    log = directory / "secantusd.log"
    executable = Path(sys.executable).with_name("secantusd-py")
    with log.open("wb") as output:
        server = subprocess.Popen(
            [
                *(executable, "--host", "127.0.0.1", "--port", str(port)),
                *("--storage-path", directory / "data", "--log-level", "WARNING"),
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # so that stopping it stops whatever it started
        )
    try:
        url = f"mongodb://127.0.0.1:{port}/{DATABASE}"
        wait_for(url, server, log)
        yield url
    finally:
        stop(server)


def stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=0, help="one server per xdist worker")
    parser.add_argument("command", nargs="+")
    args = parser.parse_args()
    # SIGTERM (a CI timeout, say) unwinds like Ctrl-C, through the servers' shutdown.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with contextlib.ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="secantus-")))
        urls = []
        try:
            for n in range(max(args.workers, 1)):
                (root / str(n)).mkdir()
                urls.append(stack.enter_context(secantus(root / str(n))))
        except RuntimeError as error:
            print(error, file=sys.stderr)
            return 2
        env = os.environ | {"DATABASE_URL": urls[0]}
        if args.workers:
            env["MONGODB_WORKER_URLS"] = ",".join(urls)
        print(f"SecantusDB at {', '.join(urls)}", flush=True)
        try:
            return subprocess.call(args.command, env=env)
        except KeyboardInterrupt:
            return 130


if __name__ == "__main__":
    sys.exit(main())
