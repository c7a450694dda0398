"""The ranking index: a Redis sorted set of every live user.

The database is the source of truth; this index makes a page, a rank or a position cost
O(log N) at 50 million users. Keys, under ``settings.LEADERBOARD_INDEX_PREFIX``:

``board``
    Sorted set. Member: the user's id, fixed-width (see ``_member``). Score: ``-points``, so
    that ascending order is points descending and equal scores fall back to member order,
    which is creation order. Competition rank is ``1 + ZCOUNT(score < -points)``.
``versions``
    Hash, member -> the ``User.version`` the board holds for it (absent means 0). Every write
    carries the version it read from the database after its own commit, and lands only if it
    is newer. Writes may then arrive late, twice or out of order, from any process, and the
    index still ends equal to the database; a plain ZINCRBY could count a change twice
    against a rebuilt index, and a plain ZADD could roll a newer value back.
``ready``
    Present while ``board`` is complete. Reads use the index only then; otherwise they are
    answered from the database and a rebuild is requested.
``building``
    Present (holding the rebuild's token) while a rebuild fills ``next:board`` and
    ``next:versions``. Writers apply to both pairs, so nothing changed during a rebuild is lost
    when the new pair is RENAMEd over the live one in one atomic script.

When Redis does not answer, reads fall back to the database and writes still succeed: the
process remembers that the index missed a change and, at its next contact with Redis, drops
``ready`` and requests a rebuild.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django_redis import get_redis_connection
from redis import Redis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

T = TypeVar("T")

# How long a rebuild may go without showing signs of life before writers stop feeding it.
BUILD_TTL_SECONDS = 120

# Applies (member, score, version) triples to each (board, versions, gate) triple of KEYS
# whose gate key exists. An empty score removes the member (a deleted user); its version
# stays behind as a tombstone, so a late write from before the deletion cannot bring it back.
_PUT = """
local applied = 0
for k = 1, #KEYS, 3 do
  if redis.call('EXISTS', KEYS[k + 2]) == 1 then
    applied = applied + 1
    for i = 1, #ARGV, 3 do
      local member, score, version = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
      local held = tonumber(redis.call('HGET', KEYS[k + 1], member) or '-1')
      if version > held then
        if score == '' then
          redis.call('ZREM', KEYS[k], member)
        else
          redis.call('ZADD', KEYS[k], score, member)
        end
        if version > 0 then
          redis.call('HSET', KEYS[k + 1], member, version)
        end
      end
    end
  end
end
return applied
"""

# KEYS: board. ARGV: score, offset, limit. The users with one score hold consecutive
# positions: find where the run starts and index into it, so that a deep offset costs
# O(log N) rather than ZRANGEBYSCORE ... LIMIT walking every skipped member.
_WINDOW_OF_SCORE = """
local above = redis.call('ZCOUNT', KEYS[1], '-inf', '(' .. ARGV[1])
local run = redis.call('ZCOUNT', KEYS[1], ARGV[1], ARGV[1])
local first = tonumber(ARGV[2])
local last = math.min(first + tonumber(ARGV[3]), run) - 1
if last < first then
  return {}
end
return redis.call('ZRANGE', KEYS[1], above + first, above + last)
"""

# KEYS: building, next board, next versions. ARGV: the build token, its TTL. Claims the
# rebuild and clears what a rebuild that died may have left, in one step, so that no write
# lands in between and is wiped.
_BEGIN = """
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then
  return 0
end
redis.call('DEL', KEYS[2], KEYS[3])
return 1
"""

# KEYS: board, versions, ready, next board, next versions, building. ARGV: the build token.
_SWAP = """
if redis.call('GET', KEYS[6]) ~= ARGV[1] then
  return 0
end
for k = 1, 2 do
  if redis.call('EXISTS', KEYS[k + 3]) == 1 then
    redis.call('RENAME', KEYS[k + 3], KEYS[k])
  else
    redis.call('DEL', KEYS[k])
  end
end
redis.call('SET', KEYS[3], '1')
redis.call('DEL', KEYS[6])
return 1
"""


@dataclass(frozen=True)
class Entry:
    """One user's state as the index needs it."""

    pk: Any
    points: int
    version: int
    deleted: bool = False


class _Keys:
    def __init__(self, prefix: str) -> None:
        self.board = f"{prefix}:board"
        self.versions = f"{prefix}:versions"
        self.ready = f"{prefix}:ready"
        self.next_board = f"{prefix}:next:board"
        self.next_versions = f"{prefix}:next:versions"
        self.building = f"{prefix}:building"
        self.rebuild_requested = f"{prefix}:rebuild-requested"

    @property
    def live_and_next(self) -> list[str]:
        return [
            self.board,
            self.versions,
            self.ready,
            self.next_board,
            self.next_versions,
            self.building,
        ]


class _Health:
    """This process's view of Redis: when to try it again after it failed to answer, and
    whether the index missed one of this process's writes meanwhile."""

    retry_at = 0.0
    missed_write = False


_health = _Health()


def _keys() -> _Keys:
    return _Keys(settings.LEADERBOARD_INDEX_PREFIX)


def _client() -> Redis:
    return get_redis_connection("default")


def _member(pk: Any) -> str:
    """Fixed-width members sort like creation order: zero-padded integers on SQL databases,
    ObjectId hex strings (whose leading bytes are a timestamp) on MongoDB."""
    return f"{pk:020d}" if isinstance(pk, int) else str(pk)


def _pk(member: bytes) -> Any:
    text = member.decode()
    return int(text) if len(text) == 20 and text.isdigit() else text


def _score(points: int) -> int:
    return -points


def _put_args(entries: Iterable[Entry]) -> list[Any]:
    """The flat (member, score, version) triples that ``_PUT`` reads; "" scores a deletion."""
    args: list[Any] = []
    for entry in entries:
        args += [_member(entry.pk), "" if entry.deleted else _score(entry.points), entry.version]
    return args


def _call(operation: Callable[[Redis], T], *, is_write: bool = False) -> T | None:
    """Run one operation against Redis; None when Redis is away (and we note it)."""
    if time.monotonic() < _health.retry_at:
        _health.missed_write |= is_write
        return None
    try:
        client = _client()
        if _health.missed_write:
            _forget_stale_index(client)
        return operation(client)
    except RedisError as exc:
        logger.warning("Redis did not answer (%s); serving from the database.", exc)
        _health.retry_at = time.monotonic() + settings.LEADERBOARD_REDIS_RETRY_SECONDS
        _health.missed_write |= is_write
        return None


def _forget_stale_index(client: Redis) -> None:
    """The index missed a write while Redis was away: stop reading it and rebuild it."""
    client.delete(_keys().ready)
    _health.missed_write = False
    logger.warning("The ranking index missed writes while Redis was away; rebuilding it.")
    _request_rebuild(client)


def _request_rebuild(client: Redis) -> None:
    """Queue one rebuild (at most one request a minute, across every process)."""
    if not client.set(_keys().rebuild_requested, "1", nx=True, ex=60):
        return
    from users.tasks import rebuild_leaderboard

    try:
        rebuild_leaderboard.apply_async(retry=False)
    except Exception:  # a broker hiccup must not fail the read that noticed
        logger.exception("Could not queue a rebuild of the ranking index.")
        client.delete(_keys().rebuild_requested)


def _ready_or_rebuild(client: Redis, ready: bool) -> bool:
    if not ready and not client.exists(_keys().building):
        _request_rebuild(client)
    return ready


# --- Writes ---------------------------------------------------------------------------------


def put(entries: Iterable[Entry]) -> None:
    """Record users' states in the index (and in a rebuild under way). Never raises."""
    args = _put_args(entries)
    if args:
        _call(
            lambda client: client.register_script(_PUT)(keys=_keys().live_and_next, args=args),
            is_write=True,
        )


# --- Reads: each returns None when the index cannot answer -----------------------------------


def count(*, points: int | None = None) -> int | None:
    """How many users are on the board (with exactly ``points``, if given)."""
    keys = _keys()

    def operation(client: Redis) -> int | None:
        pipe = client.pipeline(transaction=False)
        pipe.exists(keys.ready)
        if points is None:
            pipe.zcard(keys.board)
        else:
            pipe.zcount(keys.board, _score(points), _score(points))
        ready, total = pipe.execute()
        return total if _ready_or_rebuild(client, ready) else None

    return _call(operation)


def window(*, offset: int, limit: int, points: int | None = None) -> list[Any] | None:
    """The ids of users ``offset`` to ``offset + limit`` in leaderboard order."""
    keys = _keys()

    def operation(client: Redis) -> list[Any] | None:
        pipe = client.pipeline(transaction=False)
        pipe.exists(keys.ready)
        if points is None:
            pipe.zrange(keys.board, offset, offset + limit - 1)
        else:
            pipe.eval(_WINDOW_OF_SCORE, 1, keys.board, _score(points), offset, limit)
        ready, members = pipe.execute()
        return [_pk(m) for m in members] if _ready_or_rebuild(client, ready) else None

    return _call(operation)


def ranks(points: Iterable[int]) -> dict[int, int] | None:
    """Competition rank for each points value: 1 + the number of users with more points."""
    values = sorted(set(points))
    keys = _keys()

    def operation(client: Redis) -> dict[int, int] | None:
        pipe = client.pipeline(transaction=False)
        pipe.exists(keys.ready)
        for value in values:
            pipe.zcount(keys.board, "-inf", f"({_score(value)}")
        ready, *above = pipe.execute()
        if not _ready_or_rebuild(client, ready):
            return None
        return {value: n + 1 for value, n in zip(values, above, strict=True)}

    return _call(operation)


def members_with_points(points: Sequence[int], *, limit: int) -> dict[int, list[Any]] | None:
    """For each points value, the ids of the first ``limit`` users with it, in order."""
    keys = _keys()

    def operation(client: Redis) -> dict[int, list[Any]] | None:
        pipe = client.pipeline(transaction=False)
        pipe.exists(keys.ready)
        for value in points:
            pipe.zrangebyscore(keys.board, _score(value), _score(value), start=0, num=limit)
        ready, *groups = pipe.execute()
        if not _ready_or_rebuild(client, ready):
            return None
        return {
            value: [_pk(m) for m in members] for value, members in zip(points, groups, strict=True)
        }

    return _call(operation)


def snapshot() -> list[tuple[Any, int]] | None:
    """Every (id, points) in index order, for tests and checks on small boards."""
    keys = _keys()

    def operation(client: Redis) -> list[tuple[Any, int]] | None:
        if not client.exists(keys.ready):
            return None
        rows = cast(list[tuple[bytes, float]], client.zrange(keys.board, 0, -1, withscores=True))
        return [(_pk(member), int(-score)) for member, score in rows]

    return _call(operation)


def status() -> dict[str, str]:
    """Whether Redis answers and whether reads are using the index, for /readyz."""
    ready = _call(lambda client: client.exists(_keys().ready))
    if ready is None:
        return {"redis": "unavailable", "index": "unavailable"}
    return {"redis": "ok", "index": "ready" if ready else "rebuilding"}


def mark_stale() -> None:
    """Stop reading the index until the next rebuild."""
    _call(lambda client: client.delete(_keys().ready))


# --- Rebuild --------------------------------------------------------------------------------


class RebuildInProgress(Exception):
    """Another rebuild is filling the index."""


class RedisUnavailable(Exception):
    """Redis does not answer, so there is no index to rebuild."""


def rebuild(
    chunks: Iterator[list[Entry]], *, on_chunk: Callable[[int], object] | None = None
) -> int:
    """Fill a fresh index from ``chunks`` and swap it in atomically. Returns the live count.

    Readers keep using the old index (or the database) until the swap. Writers apply to both
    the old and the new index meanwhile, and versions decide between a write and the
    rebuild's own (possibly older) reading of the same user.
    """
    keys = _keys()
    token = secrets.token_hex(8)
    try:
        client = _client()
        begun = client.eval(
            _BEGIN,
            3,
            keys.building,
            keys.next_board,
            keys.next_versions,
            token,
            BUILD_TTL_SECONDS,
        )
        if not begun:
            raise RebuildInProgress
        load = client.register_script(_PUT)
        fill = [keys.next_board, keys.next_versions, keys.building]
        for chunk in chunks:
            if chunk:
                load(keys=fill, args=_put_args(chunk))
            client.expire(keys.building, BUILD_TTL_SECONDS)
            if on_chunk:
                on_chunk(len(chunk))
        if not client.eval(_SWAP, 6, *keys.live_and_next, token):
            raise RebuildInProgress
        client.delete(keys.rebuild_requested)
        return int(client.zcard(keys.board))
    except RedisError as exc:
        raise RedisUnavailable(str(exc)) from exc


def flush() -> None:
    """Remove every key of the index (tests, and resetting a development machine)."""
    keys = _keys()
    _client().delete(*keys.live_and_next, keys.rebuild_requested)


@receiver(setting_changed)
def _reset_on_settings_change(*, setting: str, **kwargs: Any) -> None:
    if setting in {"CACHES", "LEADERBOARD_INDEX_PREFIX"}:
        _health.retry_at = 0.0
