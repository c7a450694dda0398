"""Key names and the encoding of users as sorted-set members."""

from __future__ import annotations

from typing import Any

from bson import ObjectId

# Members sort like creation order: integer ids are written in base 64 with an alphabet in
# ASCII order, so that comparing members compares ids. Six characters (ids below 64**6, about
# 69 billion) fit Redis's 8-byte allocation, where twelve decimal digits take 16: 8 bytes a
# user on the board. A larger id gets a "~" (which sorts after the whole alphabet) and eleven
# characters, enough for any 64-bit id.
_ALPHABET = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
_VALUE = {char: value for value, char in enumerate(_ALPHABET)}
_WIDTH = 6
_LARGE = "~"


# Every pair of digits, so that six digits take three lookups (a rebuild encodes millions).
_PAIRS = [a + b for a in _ALPHABET for b in _ALPHABET]
_PAIR_VALUE = {pair: value for value, pair in enumerate(_PAIRS)}


def _base64(number: int, width: int) -> str:
    chars = []
    for _ in range(width):
        number, digit = divmod(number, 64)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))


def member(pk: Any) -> str:
    """An id as a member: base 64 (above) on SQL databases; on MongoDB the ObjectId's hex
    string, whose leading bytes are a timestamp, so that it too sorts by creation."""
    if isinstance(pk, int):
        if 0 <= pk < 64**_WIDTH:
            return _PAIRS[pk >> 24] + _PAIRS[(pk >> 12) & 4095] + _PAIRS[pk & 4095]
        return _LARGE + _base64(pk, 11)
    return str(pk)


def text(value: bytes | str) -> str:
    """A value read from Redis, as text."""
    return value.decode() if isinstance(value, bytes) else value


def pk_of(value: bytes | str) -> int | ObjectId:
    """The id a member stands for, as the ORM has it: an int, or an ObjectId (MongoDB)."""
    name = text(value)
    if len(name) == _WIDTH:
        return (
            (_PAIR_VALUE[name[:2]] << 24) | (_PAIR_VALUE[name[2:4]] << 12) | _PAIR_VALUE[name[4:]]
        )
    if len(name) == 24:  # an ObjectId
        return ObjectId(name)
    number = 0
    for char in name.removeprefix(_LARGE):
        number = number * 64 + _VALUE[char]
    return number


class Keys:
    """The keys of one database's index (the scripts derive a generation's own from
    ``prefix``), and ``identities``, shared by every database's index on this Redis."""

    def __init__(self, base: str, token: str) -> None:
        self.token = token
        self.identities = f"{base}:identities"
        self.prefix = prefix = f"{base}:{token}"
        self.current = f"{prefix}:current"
        self.filling = f"{prefix}:filling"
        self.building = f"{prefix}:building"
        self.generations = f"{prefix}:generations"
        self.sweeping = f"{prefix}:sweeping"
        self.trusted = f"{prefix}:trusted"
        self.retired = f"{prefix}:retired"
        self.checkpoint = f"{prefix}:checkpoint"
        self.passes = f"{prefix}:passes"
        self.backlog = f"{prefix}:backlog"
        self.alive = f"{prefix}:alive"

    def generation(self, g: str | int) -> str:
        return f"{self.prefix}:g:{g}:"

    def requested(self, kind: str) -> str:
        return f"{self.prefix}:{kind}-requested"
