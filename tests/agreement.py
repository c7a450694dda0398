"""What every read answers, compared with the database: the board, each user's detail, a
neighbourhood, the groups and a search. Used in this process and, through
``manage.py shell -c``, by processes that tests start (``print_differences``)."""

from __future__ import annotations

import json
from typing import Any

from django.db.models import Avg, Count
from django.test import Client

from users.models import User


def _ranked() -> list[dict[str, Any]]:
    """Every live user in board order, with competition ranks, from the database."""
    users = list(User.objects.alive().in_leaderboard_order().values("pk", "name", "points"))
    ranked, rank, previous = [], 0, None
    for position, user in enumerate(users, start=1):
        if user["points"] != previous:
            rank, previous = position, user["points"]
        pk = user["pk"] if isinstance(user["pk"], int) else str(user["pk"])  # as on the wire
        ranked.append({"id": pk, "name": user["name"], "points": user["points"], "rank": rank})
    return ranked


def _pick(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{key: row[key] for key in ("id", "name", "points", "rank")} for row in rows]


def differences(client: Client | None = None) -> list[str]:
    """How the API's reads differ from the database; empty when they all agree."""
    client = client or Client()
    expected = _ranked()
    found: list[str] = []

    board = client.get("/api/users/", {"limit": 500}).json()
    if board["count"] != len(expected) or _pick(board["results"]) != expected[:500]:
        found.append(f"board: {_pick(board['results'])[:5]} != {expected[:5]}")
    for user in expected[:20]:
        detail = client.get(f"/api/users/{user['id']}/")
        if detail.status_code != 200 or _pick([detail.json()])[0] != user:
            found.append(f"detail {user['id']}: {detail.content[:200]!r} != {user}")
    if expected:
        middle = expected[len(expected) // 2]
        around = client.get(f"/api/users/{middle['id']}/around/", {"size": 2}).json()
        at = expected.index(middle)
        wanted = (expected[max(0, at - 2) : at], middle, expected[at + 1 : at + 3])
        got = (_pick(around["above"]), _pick([around["user"]])[0], _pick(around["below"]))
        if got != wanted:
            found.append(f"around {middle['id']}: {got} != {wanted}")
        fragment = middle["name"][:2]
        if len(fragment.strip()) == 2:
            search = client.get("/api/users/", {"search": fragment, "limit": 500}).json()
            matching = [u for u in expected if fragment.casefold() in u["name"].casefold()]
            if _pick(search["results"]) != matching[:500]:
                found.append(
                    f"search {fragment!r}: {_pick(search['results'])[:3]} != {matching[:3]}"
                )
    groups = client.get("/api/users/grouped-by-score/", {"limit": 200}).json()
    rows = (
        User.objects.alive()
        .values("points")
        .annotate(count=Count("pk"), average_age=Avg("age"))
        .order_by("-points")[:200]
    )
    wanted_groups = [(r["points"], r["count"], round(float(r["average_age"]), 2)) for r in rows]
    got_groups = [(g["points"], g["count"], g["average_age"]) for g in groups["results"]]
    if got_groups != wanted_groups:
        found.append(f"groups: {got_groups[:5]} != {wanted_groups[:5]}")
    return found


def print_differences() -> None:
    """For a process a test started: the differences and /readyz, as one line of JSON."""
    client = Client()
    print(json.dumps({"differences": differences(client), "readyz": client.get("/readyz").json()}))
