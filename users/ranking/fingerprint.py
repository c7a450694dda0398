"""The fingerprint that tells whether the index is complete: the last line of defence, which
``check_leaderboard`` compares with the database's."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError

from . import health, scripts
from .keys import member
from .rebuild import RedisUnavailable


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


def fingerprint(*, leaving_out: Sequence[Any] = ()) -> Fingerprint | None:
    """The live generation's fingerprint, less the users with the ids ``leaving_out`` (those
    changed too recently to compare). None when there is no live generation."""
    prefix = health.keys().prefix
    try:
        status, *rest = scripts.run(
            "fingerprint", health.client(), prefix, *map(member, leaving_out)
        )
    except RedisError as exc:
        raise RedisUnavailable(str(exc)) from exc
    if int(status) in (health.NO_INDEX, health.RETIRED):
        return None
    return Fingerprint(*(int(value) for value in rest[0]))
