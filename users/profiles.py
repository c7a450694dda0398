"""Recently read users' names, ages and addresses, kept in each process.

A page of the board comes from the index as (id, points, rank, version). The rest of each
user rarely changes, so each process keeps the last profiles it read, keyed by the version
they were read at: the index says which version is current, so a copy is never served after
a change reaches the index, and no process has to tell another to forget one. The hot pages
(the top of the board) then need no SQL at all; memory stays bounded by ``SIZE`` per process.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

SIZE = 20_000

Profile = tuple[str, int, str]  # name, age, address
# A profile read: id, version, name, age, address.
Row = tuple[Any, int, str, int, str]


class ProfileCache:
    """Each profile is kept as one tuple, ``(version, name, age, address)``. Python's
    collector stops tracking a tuple of strings and numbers, so a full cache adds nothing to
    what its full collections walk while every thread of the worker waits; a NamedTuple, or
    a tuple holding one, stays tracked. (On MongoDB the keys, ObjectIds, stay tracked.)"""

    def __init__(self, size: int = SIZE) -> None:
        self._size = size
        self._entries: OrderedDict[Any, tuple[int, str, int, str]] = OrderedDict()
        self._lock = threading.Lock()  # gunicorn's threads share it

    def get_many(self, wanted: Iterable[tuple[Any, int]]) -> dict[Any, Profile]:
        """The profiles held at exactly the versions asked for."""
        found = {}
        with self._lock:
            for pk, version in wanted:
                held = self._entries.get(pk)
                if held is not None and held[0] == version:
                    self._entries.move_to_end(pk)
                    found[pk] = held[1:]
        return found

    def put_many(self, rows: Iterable[Row]) -> None:
        """Keep the profiles read, each unless a newer version is held."""
        with self._lock:
            entries = self._entries
            for row in rows:
                pk, version = row[0], row[1]
                held = entries.get(pk)
                if held is None or held[0] <= version:
                    entries[pk] = row[1:]
                    entries.move_to_end(pk)
            while len(entries) > self._size:
                entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


profiles = ProfileCache()
