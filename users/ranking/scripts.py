"""The Lua scripts of the index, each loaded with the helpers of ``lua/common.lua``."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from redis import Redis
from redis.client import Pipeline
from redis.commands.core import Script

_LUA = Path(__file__).with_name("lua")


@cache
def _source(name: str) -> bytes:
    return (_LUA / "common.lua").read_bytes() + b"\n" + (_LUA / f"{name}.lua").read_bytes()


@cache
def _script(name: str) -> Script:
    # A Script runs by its SHA and loads itself again on NOSCRIPT: after a restart, or on a
    # replica promoted by Sentinel, whose script cache starts empty.
    return Script(None, _source(name))  # type: ignore[arg-type]  # bytes: no client needed


def run(name: str, client: Redis | Pipeline, *args: Any) -> Any:
    """Run script ``name`` with ``args`` (the prefix first) on ``client`` or in a pipeline."""
    return _script(name)(keys=[], args=list(args), client=client)
