"""The Lua scripts of the index, each loaded with the helpers of ``lua/common.lua``."""

from __future__ import annotations

import os
import threading
from contextlib import suppress
from functools import cache
from pathlib import Path
from typing import Any

from redis import Redis
from redis.client import Pipeline
from redis.commands.core import Script
from redis.connection import Connection, ConnectionPool
from redis.exceptions import ConnectionError, NoScriptError
from redis.sentinel import SentinelConnectionPool

_LUA = Path(__file__).with_name("lua")

# The scripts a request runs. Each may be sent twice: the reads change nothing, and a write
# (``put``) is kept only if its version is newer than the one held.
_REPEATABLE = frozenset({"placement", "page", "around", "rank", "ranks", "groups", "put"})


@cache
def _source(name: str) -> bytes:
    return (_LUA / "common.lua").read_bytes() + b"\n" + (_LUA / f"{name}.lua").read_bytes()


@cache
def _script(name: str) -> Script:
    return Script(None, _source(name))  # type: ignore[arg-type]  # bytes: no client needed


def run(name: str, client: Redis | Pipeline, *args: Any) -> Any:
    """Run script ``name`` with ``args`` (the prefix first) on ``client`` or in a pipeline.

    Scripts run by their SHA and are loaded again on NOSCRIPT: after a restart, or on a
    replica promoted by Sentinel, whose script cache starts empty. A pipeline loads them
    before it runs (redis-py's ``Script`` does); a single call sends ``EVALSHA`` itself,
    without the ``Script`` object's argument handling, which every read and write pays.
    A request's scripts go over its thread's own connection (``_over_thread``), except
    through Sentinel: a connection taken from its pool for each command follows a failover
    as soon as any of them has met it (the pool then drops the idle ones), where a kept one
    would go on reading the old primary, demoted to a replica, until its own write failed."""
    script = _script(name)
    if isinstance(client, Pipeline):
        return script(keys=[], args=list(args), client=client)
    command = ("EVALSHA", script.sha, 0, *args)
    pinned = name in _REPEATABLE and not isinstance(client.connection_pool, SentinelConnectionPool)
    send = _over_thread if pinned else _over_pool
    try:
        return send(client, command)
    except NoScriptError:
        client.script_load(script.script)
        return send(client, command)


def _over_pool(client: Redis, command: tuple[Any, ...]) -> Any:
    return client.execute_command(*command)


class _Kept:
    """A connection taken from ``pool`` by one thread, given back when the thread ends (its
    ``threading.local`` goes, and this with it) or moves to another pool. One a thread
    inherited through a fork is left alone: giving back or closing the parent's would cut
    it."""

    __slots__ = ("connection", "pid", "pool")

    def __init__(self, pool: ConnectionPool) -> None:
        self.pool, self.pid, self.connection = pool, os.getpid(), pool.get_connection()

    def __del__(self) -> None:
        # Also run for one whose connection could not be made, and at interpreter exit.
        with suppress(Exception):
            if self.pid == os.getpid():
                self.pool.release(self.connection)


class _Held(threading.local):
    kept: _Kept | None = None


_held = _Held()


def _over_thread(client: Redis, command: tuple[Any, ...]) -> Any:
    """``command``'s answer, over a connection this thread keeps from one call to the next.
    Taking one from the pool and handing it back (a lock, a check that nothing is left to
    read on it, the pool's counters) cost as much Python as the rest of the call.

    What the pool checks before each command, a kept connection that Redis has closed
    meanwhile (a restart, a client kill), shows here as a ConnectionError: the command then
    goes once more, over a new connection, which only ``_REPEATABLE`` scripts may do."""
    connection = _connection(client)
    was_open = connection.is_connected
    try:
        return _exchange(connection, command)
    except ConnectionError:
        if not was_open:
            raise  # a new connection failed: Redis is away
        return _exchange(connection, command)


def _exchange(connection: Connection, command: tuple[Any, ...]) -> Any:
    # An exchange cut short (a lost connection, a timeout, an exception raised in this
    # thread) closes the connection in redis-py itself, so no answer is left on it for the
    # next command to take for its own.
    connection.send_command(*command)
    return connection.read_response()


def _connection(client: Redis) -> Connection:
    kept = _held.kept
    if kept is None or kept.pool is not client.connection_pool or kept.pid != os.getpid():
        kept = _held.kept = _Kept(client.connection_pool)
    return kept.connection
