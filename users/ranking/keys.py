"""Key names and the encoding of users as sorted-set members."""

from __future__ import annotations

from typing import Any

# Members sort like creation order. Integer ids are zero-padded to twelve digits, which fit
# Redis's smallest string allocation (16 bytes) and a trillion ids; a larger id gets a "~"
# (which sorts after every digit) and nineteen digits, enough for any 64-bit id.
_DIGITS = 12
_LARGE = "~"


def member(pk: Any) -> str:
    """Zero-padded integers on SQL databases; ObjectId hex strings (whose leading bytes are a
    timestamp, so they too sort by creation) on MongoDB."""
    if isinstance(pk, int):
        return f"{pk:0{_DIGITS}d}" if pk < 10**_DIGITS else f"{_LARGE}{pk:019d}"
    return str(pk)


def text(value: bytes | str) -> str:
    """A value read from Redis, as text."""
    return value.decode() if isinstance(value, bytes) else value


def pk_of(value: bytes | str) -> int | str:
    """The id a member stands for: an int, or the ObjectId's hex string."""
    name = text(value)
    if len(name) == _DIGITS and name.isdigit():
        return int(name)
    if name.startswith(_LARGE):
        return int(name[1:])
    return name


class Keys:
    """The keys that are not per generation (the scripts derive those from the prefix)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.current = f"{prefix}:current"
        self.building = f"{prefix}:building"
        self.generations = f"{prefix}:generations"
        self.misses = f"{prefix}:misses"
        self.repairing = f"{prefix}:repairing"

    def generation(self, g: str | int) -> str:
        return f"{self.prefix}:g:{g}:"

    def requested(self, kind: str) -> str:
        return f"{self.prefix}:{kind}-requested"
