"""Anonymous reads of the board are reused for a second (LEADERBOARD_PUBLIC_CACHE_SECONDS) by
each web process, and carry an ETag; everyone else always sees the live board."""

import time

import pytest
from rest_framework.test import APIClient

from accounts.services import token_issue
from tests.conftest import absent_id
from users.factories import UserFactory
from users.models import User
from users.services import points_change

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def kept(settings):
    settings.LEADERBOARD_PUBLIC_CACHE_SECONDS = 30
    return settings


def top_points(client: APIClient, query: str = "") -> int:
    return client.get(f"/api/users/?limit=1{query}").json()["results"][0]["points"]


def test_an_anonymous_read_is_reused_until_it_expires(kept, api):
    kept.LEADERBOARD_PUBLIC_CACHE_SECONDS = 1
    ada = UserFactory(name="Ada", points=10)
    assert top_points(api) == 10

    points_change(user_id=ada.pk, delta=5)

    assert top_points(api) == 10  # the same answer, kept by this process
    assert top_points(api, "&offset=0") == 15  # another address is another answer
    time.sleep(1.1)
    assert top_points(api) == 15  # a kept answer expired is computed again


def test_a_token_holder_always_sees_the_live_board(kept, api):
    ada = UserFactory(name="Ada", points=10)
    reader = APIClient()
    reader.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(username='reader')}")
    assert top_points(api) == top_points(reader) == 10

    points_change(user_id=ada.pk, delta=5)

    assert top_points(reader) == 15
    assert "public" not in reader.get("/api/users/").get("Cache-Control", "")


def test_an_etag_sent_back_gets_a_304_without_a_body(kept, api):
    UserFactory(name="Ada", points=10)
    first = api.get("/api/users/")
    assert first["Cache-Control"] == "public, max-age=30"

    again = api.get("/api/users/", HTTP_IF_NONE_MATCH=first["ETag"])

    assert (again.status_code, again.content, again["ETag"]) == (304, b"", first["ETag"])
    assert api.get("/api/users/", HTTP_IF_NONE_MATCH='"other"').status_code == 200


def test_errors_are_never_kept(kept, api):
    absent = absent_id()
    assert api.get(f"/api/users/{absent}/").status_code == 404
    user = UserFactory(pk=User._meta.pk.to_python(absent), name="Late", points=1)

    assert api.get(f"/api/users/{user.pk}/").json()["name"] == "Late"
