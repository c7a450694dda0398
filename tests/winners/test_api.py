from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings

from tests.conftest import absent_id, wire_id
from users.factories import UserFactory
from winners.factories import WinnerFactory
from winners.services import winner_declare

pytestmark = pytest.mark.django_db(transaction=True)

START = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def test_winners_are_listed_newest_first_in_the_contract_shape(api):
    users = [UserFactory(points=p) for p in (1, 2, 3)]
    for i, user in enumerate(users):
        user.points = 100 + i
        user.save()
        winner_declare(at=START + timedelta(minutes=5 * i), now=START + timedelta(minutes=5 * i))

    body = api.get("/api/winners/").json()

    assert body["count"] == 3
    assert [w["user"]["id"] for w in body["results"]] == [wire_id(u.pk) for u in reversed(users)]
    newest = body["results"][0]
    assert set(newest) == {"id", "user", "points", "slot", "won_at"}
    assert newest["user"] == {"id": wire_id(users[2].pk), "name": users[2].name}
    assert newest["points"] == 102
    assert datetime.fromisoformat(newest["won_at"]) == START + timedelta(minutes=10)
    assert datetime.fromisoformat(newest["slot"]) == START + timedelta(minutes=10)


def test_a_winner_keeps_its_name_and_points_after_the_user_is_deleted(api, writer):
    user = UserFactory(name="Grace", points=42)
    winner_declare(at=START, now=START)

    assert writer.delete(f"/api/users/{user.pk}/").status_code == 204

    [winner] = api.get("/api/winners/").json()["results"]
    assert (winner["user"]["name"], winner["points"]) == ("Grace", 42)


def test_winners_are_paginated(api):
    for i in range(7):
        WinnerFactory(won_at=START + timedelta(minutes=5 * i))

    page = api.get("/api/winners/?limit=3&offset=3").json()

    assert page["count"] == 7
    assert len(page["results"]) == 3
    assert "offset=6" in page["next"]
    assert "offset=0" in page["previous"] or "offset" not in page["previous"]


def test_winners_are_read_only_over_the_api(writer):
    assert writer.post("/api/winners/", {}, format="json").status_code == 405


def test_winners_filter_by_user(api):
    ada, bob = UserFactory(points=5), UserFactory(points=1)
    for i, user in enumerate([ada, bob, ada]):
        WinnerFactory(user=user, won_at=START + timedelta(minutes=5 * i))

    mine = api.get(f"/api/winners/?user={ada.pk}").json()

    assert mine["count"] == 2
    assert {w["user"]["id"] for w in mine["results"]} == {wire_id(ada.pk)}
    assert api.get(f"/api/winners/?user={absent_id()}").json()["count"] == 0
    refused = api.get("/api/winners/?user=abc")
    assert refused.status_code == 400
    shape = "24 hexadecimal digits" if settings.IS_MONGODB else "a whole number"
    assert refused.json() == {"user": [f"user must be a user's id: {shape}."]}
