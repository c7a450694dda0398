"""MongoDB mode, with no server: django-mongodb-backend compiles the project's hot queries to
MQL, and each says what it should. pymongo's collection calls are recorded, not performed.

`make check-mongo` runs this module in MongoDB mode; elsewhere it is skipped. A query that the
backend cannot express (a window function, raw SQL, an unsupported lookup) fails here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from bson import ObjectId
from django.conf import settings
from pymongo.collection import Collection

from users import ranking

pytestmark = pytest.mark.skipif(
    not settings.IS_MONGODB, reason="MongoDB mode only (make check-mongo)"
)


class NoDocuments:
    """A pymongo cursor with nothing in it."""

    def __iter__(self) -> NoDocuments:
        return self

    def __next__(self) -> Any:
        raise StopIteration

    next = __next__

    def close(self) -> None:
        pass


class Recorded:
    """What the backend asked of pymongo, by collection and method."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any]] = []

    def of(self, method: str) -> list[Any]:
        return [args for _, name, args in self.calls if name == method]

    def text(self) -> str:
        return json.dumps(self.calls, default=str)


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch, django_db_blocker: Any) -> Iterator[Recorded]:
    from django.db import connection

    record = Recorded()
    # As on a standalone server, which is what the services must hold on: no transactions.
    # (Asking a server would be I/O.)
    monkeypatch.setitem(connection.features.__dict__, "_supports_transactions", False)
    monkeypatch.setattr(connection, "get_database_version", lambda: (8, 0, 0))  # compose's
    # The index's keys carry the database's identity, which only a server could answer.
    monkeypatch.setattr(ranking.health._health, "token", "offline")

    def aggregate(self: Collection, pipeline: list[dict[str, Any]], **kwargs: Any) -> Any:
        record.calls.append((self.name, "aggregate", pipeline))
        return NoDocuments()

    def update_many(self: Collection, criteria: Any, update: Any, **kwargs: Any) -> Any:
        record.calls.append((self.name, "update_many", {"filter": criteria, "update": update}))
        return SimpleNamespace(matched_count=0, modified_count=0)

    def find_one_and_update(self: Collection, criteria: Any, update: Any, **kwargs: Any) -> Any:
        record.calls.append(
            (self.name, "find_one_and_update", {"filter": criteria, "update": update, **kwargs})
        )

    def insert_many(self: Collection, documents: list[Any], **kwargs: Any) -> Any:
        record.calls.append((self.name, "insert_many", documents))
        return SimpleNamespace(inserted_ids=[ObjectId() for _ in documents])

    monkeypatch.setattr(Collection, "aggregate", aggregate)
    monkeypatch.setattr(Collection, "update_many", update_many)
    monkeypatch.setattr(Collection, "find_one_and_update", find_one_and_update)
    monkeypatch.setattr(Collection, "insert_many", insert_many)
    # No test database is created: there is no server. pymongo connects lazily, at the first
    # call, and every call is the recorder's.
    with django_db_blocker.unblock():
        yield record


def test_a_points_change_is_one_conditional_find_and_modify_in_no_transaction(recorded):
    from users.models import MAX_POINTS, User
    from users.services import points_change

    user_id = ObjectId()
    with pytest.raises(User.DoesNotExist):  # nothing matched: the recorder finds no one
        points_change(user_id=str(user_id), delta=-5)

    (change,) = recorded.of("find_one_and_update")
    assert change["filter"] == {  # live users only, and the range check rides in the filter
        "_id": user_id,
        "deleted": False,
        "points": {"$gte": 5, "$lte": MAX_POINTS},
    }
    assert change["update"]["$inc"] == {"points": -5, "version": 1}
    assert change["update"]["$set"]["index_pending"] is True
    assert change["session"] is None  # a single-document write, which MongoDB serializes
    assert recorded.of("update_many") == []


def test_a_page_from_the_database_is_sorted_skipped_and_limited(recorded):
    from users.models import User

    list(User.objects.alive().in_leaderboard_order()[100:150])

    (pipeline,) = recorded.of("aggregate")
    stages = {next(iter(stage)): stage[next(iter(stage))] for stage in pipeline}
    assert stages["$sort"] == {"points": -1, "_id": 1}
    assert stages["$skip"] == 100
    assert stages["$limit"] == 50
    assert "deleted" in json.dumps(stages["$match"])


def test_the_groups_are_a_group_stage_with_an_average(recorded):
    from users.selectors import _groups_from_database

    _groups_from_database(0, 10, 10)

    text = recorded.text()
    assert '"$group"' in text
    assert '"$avg"' in text


def test_the_winners_top_two_is_one_sorted_query_of_two(recorded):
    from winners.services import Outcome, winner_declare

    now = datetime.now(UTC)
    assert winner_declare(at=now, now=now).outcome == Outcome.EMPTY  # the recorder has no one

    (pipeline,) = recorded.of("aggregate")
    assert {"$limit": 2} in pipeline
    assert {"$sort": {"points": -1, "_id": 1}} in pipeline


def test_profiles_by_id_are_one_in_query(recorded):
    from users.models import User

    ids = [ObjectId(), ObjectId()]
    assert User.objects.in_bulk(ids) == {}

    (pipeline,) = recorded.of("aggregate")
    assert "$in" in json.dumps(pipeline, default=str)
    assert str(ids[0]) in json.dumps(pipeline, default=str)


def test_a_search_needs_no_window_function(recorded):
    from users.search import search_page

    assert search_page(text="ada", offset=0, limit=50) == (0, [])

    assert "$regex" in recorded.text() or "$regexMatch" in recorded.text()


def test_bulk_creates_insert_many_and_get_object_ids(recorded):
    from users.models import User
    from users.services import users_bulk_create

    created = users_bulk_create([User(name="Ada", age=36), User(name="Bob", age=40)])

    (documents,) = recorded.of("insert_many")
    assert [d["name"] for d in documents] == ["Ada", "Bob"]
    assert all(isinstance(user.pk, ObjectId) for user in created)
