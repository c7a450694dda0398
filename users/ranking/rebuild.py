"""Building the index whole, into a new generation, and freeing old ones.

A rebuild has three steps, so that readers never see a partial index and no write is lost:

1. **Fill.** The new generation is loaded from the database with plain bulk commands (one
   ZADD for hundreds of users, one HSET a state hash, one HINCRBY a score). Writers do not
   know it yet, so there is no version to compare, and a user costs a few microseconds.
2. **Catch up.** The generation is opened to writers, which from now on feed it beside the
   live one; the rows the database marks as pending are then applied to it through the
   versioned write, which keeps whichever state is newer. No mark is cleared while a
   generation fills (``put.lua`` tells the writers), so every write the fill may have read
   too early is still marked here.
3. **Swap.** One SET makes it the live generation. The old one is unlinked in the background
   and its small keys collected in batches, so that no client waits on Redis freeing memory.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from redis import Redis
from redis.exceptions import RedisError

from . import health, scripts
from .keys import member, text
from .writes import LEASE_SECONDS, Entry, RebuildInProgress, apply

# Users per ZADD: each command stays around a millisecond of Redis.
_PART = 500


class RedisUnavailable(Exception):
    """Redis does not answer, so there is no index to build or repair."""


@dataclass(frozen=True)
class Rebuilt:
    generation: str
    count: int


def rebuild(
    chunks: Iterable[list[Entry]],
    *,
    backlog: Callable[[], Iterable[list[Entry]]],
    checkpoint: int = 0,
    on_chunk: Callable[[int], object] | None = None,
) -> Rebuilt:
    """Fill a new generation from ``chunks`` (every live user, and recent deletions), catch it
    up with what ``backlog()`` yields (every marked row), and make it the live one, as having
    seen the database's ``checkpoint`` (read before ``chunks``).

    Raises ``RebuildInProgress`` or ``RedisUnavailable``.
    """
    from .sweep import keep_alive, trust_ms

    keys = health.keys()
    try:
        redis = health.client()
        begun = scripts.run("begin", redis, keys.prefix, LEASE_SECONDS)
        if not begun:
            raise RebuildInProgress
        generation = str(begun)
        try:
            _fill(redis, generation, chunks, on_chunk)
            # From here writers feed the generation; what they did before is caught up.
            if not scripts.run("open", redis, keys.prefix, generation, LEASE_SECONDS):
                raise RebuildInProgress
            caught_up = time.monotonic()
            for chunk in backlog():
                apply(redis, chunk, generation=generation)
        except BaseException:  # Ctrl-C included: free the lease for the next rebuild
            with suppress(RedisError):
                scripts.run("abandon", redis, keys.prefix, generation)
            raise
        trust = trust_ms(caught_up)
        if scripts.run("swap", redis, keys.prefix, generation, trust, checkpoint) is None:
            raise RebuildInProgress
        keep_alive(redis)
        collect_garbage(redis)
        count = int(redis.zcard(keys.generation(generation) + "board"))
        return Rebuilt(generation, count)
    except RedisError as exc:
        raise RedisUnavailable(str(exc)) from exc


def _fill(
    redis: Redis,
    generation: str,
    chunks: Iterable[list[Entry]],
    on_chunk: Callable[[int], object] | None,
) -> None:
    """Load ``chunks`` into the new generation.

    This thread reads, encodes and packs each chunk while another sends the previous one on a
    connection of its own and waits for Redis: the sender holds no lock but the socket, so
    Python and Redis each keep one of two cores busy.
    """
    keys = health.keys()
    connection = redis.connection_pool.get_connection()
    try:
        with ThreadPoolExecutor(1) as sender:
            sending: Future[Any] | None = None
            for chunk in chunks:
                commands = [
                    ("GET", keys.filling),
                    ("EXPIRE", keys.filling, LEASE_SECONDS),
                    *_commands(keys.generation(generation), chunk),
                ]
                packed = connection.pack_commands(commands)
                if sending and text(sending.result() or b"") != generation:
                    raise RebuildInProgress  # the lease ran out and another rebuild took over
                sending = sender.submit(_exchange, connection, packed, len(commands))
                if on_chunk:
                    on_chunk(len(chunk))
            if sending and text(sending.result() or b"") != generation:
                raise RebuildInProgress
    finally:
        redis.connection_pool.release(connection)


def _exchange(connection: Any, packed: list[bytes], count: int) -> Any:
    """Send packed commands and read their replies; returns the first (the lease's holder)."""
    connection.send_packed_command(packed)
    replies = [connection.read_response() for _ in range(count)]
    return replies[0]


def _commands(prefix: str, chunk: list[Entry]) -> list[tuple[Any, ...]]:
    """The commands that add ``chunk`` to a generation no writer knows about: what
    ``put.lua`` does for new members, with the aggregates summed here. Rows come in id order,
    so a state hash's fields are consecutive. (Plain commands: a Lua script doing the same
    spent twice the Redis time on its own bookkeeping.)"""
    commands: list[tuple[Any, ...]] = []
    board: list[Any] = []
    tombstones: list[Any] = []
    state: list[Any] = []
    bucket = None
    counts: dict[int, int] = {}
    ages: dict[int, int] = {}
    now = int(time.time() * 1000)  # the tombstones' stamp, as put.lua's (Redis TIME)
    for pk, points, version, age, deleted in chunk:
        name = member(pk)
        if name[:-1] != bucket:  # the state hash is chosen as in lua/common.lua
            if state:
                commands.append(("HSET", f"{prefix}s:{bucket}", *state))
            bucket, state = name[:-1], []
        if deleted:
            state += (name[-1:], -version)
            tombstones += (now, name)
            continue
        state += (name[-1:], version * 256 + age)
        board += (-points, name)
        counts[points] = counts.get(points, 0) + 1
        ages[points] = ages.get(points, 0) + age
    if state:
        commands.append(("HSET", f"{prefix}s:{bucket}", *state))
    for first in range(0, len(board), 2 * _PART):
        commands.append(("ZADD", prefix + "board", *board[first : first + 2 * _PART]))
    if tombstones:
        commands.append(("ZADD", prefix + "tombstones", *tombstones))
    for points, count in counts.items():
        commands += [
            ("HINCRBY", prefix + "counts", points, count),
            ("HINCRBY", prefix + "ages", points, ages[points]),
            ("ZADD", prefix + "scores", -points, points),
        ]
    live = [row for row in chunk if not row[4]]
    for name, total in [
        ("n", len(live)),
        ("points", sum(row[1] for row in live)),
        ("versions", sum(row[2] for row in live)),
        ("ages", sum(row[3] for row in live)),
    ]:
        commands.append(("HINCRBY", prefix + "fp", name, total))
    return commands


def collect_garbage(redis: Redis) -> int:
    """Free the keys of generations that are neither live nor being built (swapped out, or
    left by a rebuild that died), a thousand keys at a time so that Redis never stalls.
    Returns how many keys went."""
    keys = health.keys()
    # Members first: a rebuild records its generation and its lease in one step, so any
    # generation listed here that is not named below is finished with.
    listed = {text(g) for g in redis.smembers(keys.generations)}
    keep = {text(g) for g in redis.mget(keys.current, keys.filling, keys.building) if g}
    freed = 0
    for generation in listed - keep:
        batch = []
        for key in redis.scan_iter(match=keys.generation(generation) + "*", count=1000):
            batch.append(key)
            if len(batch) == 1000:
                freed += redis.unlink(*batch)
                batch = []
        if batch:
            freed += redis.unlink(*batch)
        redis.srem(keys.generations, generation)
    return freed
