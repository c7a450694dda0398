"""How this project's own processes relate to their parents and to the CPU scheduler."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import NoReturn, TypeVar

T = TypeVar("T")

# Linux's prctl option: the signal a process receives when its parent dies.
_PR_SET_PDEATHSIG = 1
_AUTOGROUPS = Path("/proc/sys/kernel/sched_autogroup_enabled")
# On a busy machine a bulk job works at most this share of the time and rests in between. Its
# nice value alone cannot give the CPU back: most of a seed's batch is the work of
# PostgreSQL's backend and of Redis, which run at their servers' own priority, each server a
# scheduling group weighed like the whole web server, so a batch takes about half of the
# machine while it runs.
BUSY_SHARE = 0.1
# A batch ran on a busy machine when the job waited for a CPU for this share of it or more.
# Alone, a seed waits a few percent of each batch, and a batch in a hundred crosses this;
# beside a loaded service, every batch waits for most of it.
BUSY_WAIT = 0.25


def die_with_parent(signum: int) -> None:
    """In a child: receive ``signum`` when the parent dies, however it dies."""
    with contextlib.suppress(OSError, AttributeError):  # not Linux: best effort
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signum)


def run_below_others(work: Callable[[], object], *, niceness: int) -> None:
    """Run ``work`` at CPU priority ``niceness`` (at least), so that beside a loaded service
    it slows itself rather than the service; alone it runs as fast.

    Where Linux groups processes by session (autogroups, on by default), a nice value only
    ranks processes within their session's group, and every group gets an equal share: the
    service's processes, started in sessions of their own, would not see it. So ``work`` then
    runs in a child in a session of its own, whose group has that nice value; the parent
    passes Ctrl-C on and exits as the child did.
    """
    os.setpriority(os.PRIO_PROCESS, 0, max(niceness, os.getpriority(os.PRIO_PROCESS, 0)))
    if autogroups():
        _run_in_own_group(work, niceness)
    work()


class Pace:
    """The pace of a bulk job: ``over(batches)`` gives them one at a time, and after two in a
    row that ran on a busy machine it rests, ``BUSY_SHARE`` of the time working at most, so
    that the job and the servers it drives give way to a loaded service. Alone it almost never
    rests: a seed alone waits for a CPU a few percent of a batch.

    One batch that waited proves little: alone, a seed's batch now and then waits while its
    own database backend and Redis hold both CPUs, and a rest costs nine times the batch. A
    loaded machine keeps every batch waiting."""

    def __init__(self, *, cpu_wait: Callable[[], float] | None = None) -> None:
        self.rested = 0.0  # seconds, in all
        self._cpu_wait = cpu_wait or _cpu_wait

    def over(self, batches: Iterable[T]) -> Iterator[T]:
        rest, busy_before = 0.0, False
        for batch in batches:
            if rest:  # before the next batch, so that the job ends with its last one
                time.sleep(rest)
                self.rested += rest
            waited, start = self._cpu_wait(), time.monotonic()
            yield batch
            took = time.monotonic() - start
            busy = self._cpu_wait() - waited >= BUSY_WAIT * took
            rest = took * (1 / BUSY_SHARE - 1) if busy and busy_before else 0.0
            busy_before = busy


def _cpu_wait() -> float:
    """The seconds this thread has spent waiting for a CPU, so far (Linux's schedstat); 0
    where that is not known, so that a job there never rests."""
    try:
        return int(Path("/proc/thread-self/schedstat").read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


def autogroups() -> bool:
    """Whether Linux shares the CPU between sessions' groups before their processes."""
    try:
        return _AUTOGROUPS.read_text().strip() == "1"
    except OSError:  # not Linux, or a kernel without them
        return False


def _forward(child: int) -> Callable[[int, object], None]:
    def handler(signum: int, frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):  # it has ended meanwhile
            os.kill(child, signum)

    return handler


def _run_in_own_group(work: Callable[[], object], niceness: int) -> NoReturn:
    sys.stdout.flush()
    sys.stderr.flush()
    child = os.fork()
    if child == 0:
        status = 1
        try:
            os.setsid()
            die_with_parent(signal.SIGTERM)
            with contextlib.suppress(OSError):
                Path("/proc/self/autogroup").write_text(str(niceness))
            work()
            status = 0
        except SystemExit as exit:
            status = exit.code if isinstance(exit.code, int) else 1
        except KeyboardInterrupt:
            status = 128 + signal.SIGINT
        except BaseException:
            import traceback

            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)
    # No longer in the terminal's process group, the child would not see Ctrl-C.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _forward(child))
    _, status = os.waitpid(child, 0)
    code = os.waitstatus_to_exitcode(status)
    sys.exit(128 - code if code < 0 else code)
