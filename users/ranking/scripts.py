"""The Lua scripts of the index, each loaded with the helpers of ``lua/common.lua``."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from redis import Redis
from redis.client import Pipeline
from redis.commands.core import Script
from redis.exceptions import NoScriptError

_LUA = Path(__file__).with_name("lua")


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
    without the ``Script`` object's argument handling, which every read and write pays."""
    script = _script(name)
    if isinstance(client, Pipeline):
        return script(keys=[], args=list(args), client=client)
    try:
        return client.execute_command("EVALSHA", script.sha, 0, *args)
    except NoScriptError:
        client.script_load(script.script)
        return client.execute_command("EVALSHA", script.sha, 0, *args)
