"""Bounded answers, gzip, and integers in ASCII digits only: what any client, however its
data is made up, gets back."""

import gzip

import pytest

from leaderboard.http.limits import (
    MAX_ANSWER_BYTES,
    MAX_GROUPED_USERS,
    MAX_PAGE_SIZE,
    MAX_USERS_PER_GROUP,
)
from tests.conftest import wire_id
from users.factories import UserFactory
from users.models import User
from users.services import users_bulk_create

pytestmark = pytest.mark.django_db(transaction=True)

# The largest name and address a client may give: 100 and 255 four-byte characters.
NAME, ADDRESS = "😀" * 100, "😀" * 255


@pytest.fixture
def biggest_users():
    """More users than any page lists, all with the same points (one group) and the
    biggest name and address allowed: 720 of them make over 1 MB."""
    return users_bulk_create(
        [User(name=NAME, age=150, address=ADDRESS, points=2_000_000_000) for _ in range(720)]
    )


def test_no_anonymous_answer_is_over_a_megabyte_however_names_are_made(api, biggest_users):
    one = biggest_users[0].pk
    paths = [
        f"/api/users/?limit={MAX_PAGE_SIZE}",
        f"/api/users/?limit={MAX_PAGE_SIZE}&search=😀😀",
        f"/api/users/{one}/around/?size=50",
        "/api/users/grouped-by-score/?limit=1&users_per_group=500",
        "/api/users/grouped-by-score/?limit=50&users_per_group=10",
    ]
    sizes = {}
    for path in paths:
        response = api.get(path)
        assert response.status_code == 200, path
        sizes[path] = len(response.content)

    assert max(sizes.values()) <= MAX_ANSWER_BYTES, sizes
    assert max(sizes.values()) > MAX_ANSWER_BYTES / 2  # the case is as big as it gets


@pytest.mark.parametrize(
    "query",
    ["limit=10&users_per_group=1000", "limit=3&users_per_group=700", "users_per_group=1001"],
)
def test_asking_for_more_grouped_users_than_the_bound_is_400(api, query):
    response = api.get(f"/api/users/grouped-by-score/?{query}")

    assert response.status_code == 400
    assert "users_per_group" in response.json()


def test_a_grouped_answer_that_would_pass_a_megabyte_is_400(api, biggest_users):
    response = api.get("/api/users/grouped-by-score/?limit=1&users_per_group=1000")

    assert response.status_code == 400
    assert "larger than 1 MB" in response.json()["users_per_group"][0]
    assert len(response.content) < 1000


def test_the_schema_states_the_bounds(api):
    schema = api.get("/api/schema/?format=json").json()
    grouped = schema["paths"]["/api/users/grouped-by-score/"]["get"]
    per_group = next(p for p in grouped["parameters"] if p["name"] == "users_per_group")

    assert per_group["schema"]["maximum"] == MAX_USERS_PER_GROUP
    assert f"At most {MAX_GROUPED_USERS:,} users in all" in grouped["description"]
    assert "An answer over 1 MB" in grouped["description"]
    assert "No anonymous answer is larger than 1 MB" in grouped["description"]


def test_json_answers_are_gzipped_when_asked_and_html_pages_are_not(api, biggest_users):
    plain = api.get("/api/users/?limit=100")
    packed = api.get("/api/users/?limit=100", HTTP_ACCEPT_ENCODING="gzip")
    small = api.get("/api/users/?limit=1&offset=100000", HTTP_ACCEPT_ENCODING="gzip")
    page = api.get("/", HTTP_ACCEPT_ENCODING="gzip")

    assert "Content-Encoding" not in plain
    assert packed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed["Vary"]
    assert gzip.decompress(packed.content) == plain.content
    assert "Content-Encoding" not in small  # under a kilobyte
    assert page.status_code == 200
    assert "Content-Encoding" not in page


def test_a_gzipped_answer_s_etag_sent_back_gets_a_304(settings, api, biggest_users):
    settings.LEADERBOARD_PUBLIC_CACHE_SECONDS = 30
    first = api.get("/api/users/?limit=10", HTTP_ACCEPT_ENCODING="gzip")

    again = api.get(
        "/api/users/?limit=10", HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=first["ETag"]
    )

    assert again.status_code == 304


@pytest.mark.parametrize(
    "path",
    [
        "/api/users/?limit=٥",
        "/api/users/?offset=١",
        "/api/users/?points=٣",
        "/api/users/{id}/around/?size=٥",
        "/api/users/grouped-by-score/?users_per_group=٥",
        "/api/winners/?user=١",
        "/api/users/?limit=５",  # fullwidth
    ],
)
def test_integers_in_queries_are_ascii_digits_only(api, db, path):
    user = UserFactory()

    response = api.get(path.format(id=wire_id(user.pk)))

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("path", ["/api/users/١٠/", "/api/users/١٠/around/", "/api/users/１/"])
def test_ids_in_paths_are_ascii_digits_only(api, path):
    users_bulk_create([User(name=f"U{n}", age=1) for n in range(10)])

    response = api.get(path)

    assert response.status_code == 404
    assert response.json() == {"detail": "No such user."}
