"""Repairing the index from the rows changed since it was last known complete, and the
fingerprint that tells whether it is.

Every write stamps the row's ``updated_at`` in the database, and every generation of the index
keeps a watermark: the moment of the last pass that applied every row changed before it. A
pass re-reads the rows changed since the watermark (less a margin for transactions still
committing then) and applies them through the versioned write, which is idempotent. So a write
the index missed, because a process died between its commit and its index write, or Redis
blinked, or a rebuild was running, is found from the database alone and costs a small range
scan, not a rebuild.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from redis.exceptions import RedisError

from . import health, scripts
from .keys import member, text
from .rebuild import RedisUnavailable
from .writes import Entry, apply


@dataclass(frozen=True)
class Repaired:
    generation: str
    rows: int


@dataclass(frozen=True)
class Fingerprint:
    """Live count, and the sums of points, versions and ages over live users."""

    count: int
    points: int
    versions: int
    ages: int

    def differences(self, other: Fingerprint) -> list[str]:
        return [
            f"{name}: index {getattr(self, name)}, database {getattr(other, name)}"
            for name in ("count", "points", "versions", "ages")
            if getattr(self, name) != getattr(other, name)
        ]


class RepairBusy(Exception):
    """Another process is repairing the index."""


def repair(changed_since: Callable[[datetime], Iterable[list[Entry]]]) -> Repaired | None:
    """Apply the rows ``changed_since(moment)`` yields, from the live generation's watermark,
    then move the watermark to when this pass began and mark the generation ready.

    Returns None when there is no live generation (a rebuild is needed). Raises
    ``RepairBusy`` or ``RedisUnavailable``.
    """
    keys = health.keys()
    began_ms = health.now_ms()
    try:
        redis = health.client()
        if not redis.set(keys.repairing, "1", nx=True, ex=300):
            raise RepairBusy
        try:
            current = redis.get(keys.current)
            if current is None:
                return None
            generation = text(current)
            watermark = int(redis.get(keys.generation(generation) + "watermark") or 0)
            since = datetime.fromtimestamp(max(0, watermark - health.margin_ms()) / 1000, UTC)
            rows = 0
            for chunk in changed_since(since):
                apply(redis, chunk)
                rows += len(chunk)
            cutoff = began_ms - int(settings.LEADERBOARD_TOMBSTONE_SECONDS * 1000)
            scripts.run("advance", redis, keys.prefix, generation, began_ms, cutoff)
            return Repaired(generation, rows)
        finally:
            redis.delete(keys.repairing)
    except RedisError as exc:
        raise RedisUnavailable(str(exc)) from exc


def fingerprint(*, leaving_out: Sequence[Any] = ()) -> Fingerprint | None:
    """The live generation's fingerprint, less the users with the ids ``leaving_out`` (those
    changed too recently to compare). None when there is no live generation."""
    prefix = health.keys().prefix
    try:
        status, _, *rest = scripts.run(
            "fingerprint", health.client(), prefix, *map(member, leaving_out)
        )
    except RedisError as exc:
        raise RedisUnavailable(str(exc)) from exc
    if int(status) == 0:
        return None
    return Fingerprint(*(int(value) for value in rest[0]))
