"""The ranking index: a Redis sorted set of every live user, and what is kept beside it.

The database is the source of truth; this index makes a page, a rank, a user's neighbourhood
or a page of groups cost O(log N) at 50 million users. Each database has its own index, under
``P = <LEADERBOARD_INDEX_PREFIX>:<token>`` (``users.IndexIdentity``; see ``health.py``). The
live generation g is named by ``P:current``, and its keys are ``P:g:<g>:...``:

``board``
    Sorted set. Member: the user's id in six base-64 characters (``keys.member``), whose order
    is the ids' order. Score: ``-points``, so
    ascending order is points descending and equal scores fall back to member order, which is
    creation order. Competition rank is ``1 + ZCOUNT(score < -points)``.
``s:<bucket>``
    Hashes of each user's state, ``version * 256 + age`` (``-version`` once deleted), 64 users
    to a hash so that each stays in Redis's compact encoding (about 5 bytes a user where one
    big hash costs 80). A write lands only when its version is newer than the state's.
``scores``, ``counts``, ``ages``
    The distinct scores (a sorted set), and each score's live count and age sum (hashes):
    the grouped view, exact and O(log N + page).
``fp``
    The fingerprint: live count and the sums of points, versions and ages, which
    ``check_leaderboard`` compares with the database.
``tombstones``
    When each deleted user's tombstone was written, so that it can be pruned once no write
    from before the deletion can still arrive.

Beside the generations: ``P:trusted`` (set by each sweep that applied every marked row, with
an expiry: see ``sweep.py``), ``P:retired`` (the database is gone), ``P:checkpoint`` (the
database checkpoint the index last saw), ``P:backlog`` (what the last sweep left marked).

One Lua script (``lua/put.lua``) changes the board, the state, the aggregates and the
fingerprint of a user together. A rebuild fills a new generation while writers feed both, and
the swap is one SET of ``P:current``; the old generation is unlinked in the background.
"""

from .fingerprint import Fingerprint, fingerprint
from .health import Need, index_needs, retire
from .keys import member, pk_of
from .reads import (
    Group,
    Groups,
    Placed,
    Window,
    around,
    groups,
    page,
    placement,
    rank,
    ranks,
    scan,
    snapshot,
    status,
)
from .rebuild import Rebuilt, RedisUnavailable, collect_garbage, rebuild
from .sweep import (
    SweepBusy,
    Swept,
    distrust,
    free_gone,
    held_checkpoint,
    sweeping,
    trust_ms,
    vouch,
)
from .writes import LEASE_SECONDS, Entry, Put, RebuildInProgress, apply, put

__all__ = [
    "LEASE_SECONDS",
    "Entry",
    "Fingerprint",
    "Group",
    "Groups",
    "Need",
    "Placed",
    "Put",
    "RebuildInProgress",
    "Rebuilt",
    "RedisUnavailable",
    "SweepBusy",
    "Swept",
    "Window",
    "apply",
    "around",
    "collect_garbage",
    "distrust",
    "fingerprint",
    "free_gone",
    "groups",
    "held_checkpoint",
    "index_needs",
    "member",
    "page",
    "pk_of",
    "placement",
    "put",
    "rank",
    "ranks",
    "rebuild",
    "retire",
    "scan",
    "snapshot",
    "status",
    "sweeping",
    "trust_ms",
    "vouch",
]
