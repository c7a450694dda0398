"""The users API as a client sees it: shapes, order, ranks, validation and errors."""

import pytest
from rest_framework.test import APIClient

from tests.conftest import absent_id, assert_index_matches_db, wire_id
from users.factories import UserFactory
from users.models import MAX_POINTS, User
from users.services import user_delete

# The index follows commits (on_commit), so these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)


def create(client: APIClient, **body: object) -> dict:
    response = client.post("/api/users/", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def change(client: APIClient, user_id: int, action: str, by: int | None = None):
    body = {} if by is None else {"by": by}
    return client.post(f"/api/users/{user_id}/{action}/", body, format="json")


def test_create_answers_the_new_user_with_zero_points_and_ignores_points_in_the_body(writer):
    body = create(writer, name="Ada", age=36, address="12 Analytical St", points=999)

    assert body == {
        "id": body["id"],
        "name": "Ada",
        "age": 36,
        "address": "12 Analytical St",
        "points": 0,
        "rank": 1,
    }
    assert User.objects.get(pk=body["id"]).points == 0


def test_address_is_optional_and_defaults_to_empty(writer):
    assert create(writer, name="Bo", age=1)["address"] == ""


def test_ties_share_a_competition_rank(writer, api):
    ids = [create(writer, name=name, age=20)["id"] for name in "abcd"]
    for user_id, points in zip(ids, [9, 7, 7, 3], strict=True):
        assert change(writer, user_id, "increment", points).status_code == 200

    results = api.get("/api/users/").json()["results"]

    assert [(u["name"], u["points"], u["rank"]) for u in results] == [
        ("a", 9, 1),
        ("b", 7, 2),
        ("c", 7, 2),
        ("d", 3, 4),
    ]
    assert api.get(f"/api/users/{ids[2]}/").json()["rank"] == 2


def test_equal_points_keep_creation_order(writer, api):
    ids = [create(writer, name=f"u{i}", age=20)["id"] for i in range(5)]
    change(writer, ids[3], "increment", 2)
    change(writer, ids[1], "increment", 2)

    order = [u["id"] for u in api.get("/api/users/").json()["results"]]

    assert order == [ids[1], ids[3], ids[0], ids[2], ids[4]]


def test_increment_and_decrement_answer_new_points_and_rank(writer):
    first, second = create(writer, name="a", age=1), create(writer, name="b", age=1)

    response = change(writer, second["id"], "increment", 5)
    assert response.status_code == 200
    assert response.json()["points"] == 5
    assert response.json()["rank"] == 1

    response = change(writer, second["id"], "decrement")
    assert (response.json()["points"], response.json()["rank"]) == (4, 1)
    assert change(writer, first["id"], "increment").json()["rank"] == 2
    assert_index_matches_db()


def test_decrement_below_zero_is_409_and_changes_nothing(writer):
    user = create(writer, name="a", age=1)
    change(writer, user["id"], "increment", 2)

    response = change(writer, user["id"], "decrement", 3)

    assert response.status_code == 409
    assert "below 0" in response.json()["detail"]
    assert User.objects.get(pk=user["id"]).points == 2
    assert_index_matches_db()


def test_points_stop_at_the_maximum_with_409(writer):
    user = UserFactory()
    User.objects.filter(pk=user.pk).update(points=MAX_POINTS - 5)

    response = change(writer, user.pk, "increment", 10)

    assert response.status_code == 409
    assert User.objects.get(pk=user.pk).points == MAX_POINTS - 5


@pytest.mark.parametrize("by", [0, -1, 1001, "x", 1.5, True, None, [], {}, 10**30])
def test_a_bad_by_is_400_and_changes_nothing(writer, by):
    user = create(writer, name="a", age=1)

    response = writer.post(f"/api/users/{user['id']}/increment/", {"by": by}, format="json")

    assert response.status_code == 400
    assert "by" in response.json()
    assert User.objects.get(pk=user["id"]).points == 0


def test_by_accepts_the_upper_bound(writer):
    user = create(writer, name="a", age=1)
    assert change(writer, user["id"], "increment", 1000).json()["points"] == 1000


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"age": 3}, "name"),
        ({"name": "", "age": 3}, "name"),
        ({"name": "   ", "age": 3}, "name"),
        ({"name": "x" * 101, "age": 3}, "name"),
        ({"name": None, "age": 3}, "name"),
        ({"name": "a\x00b", "age": 3}, "name"),
        ({"name": "a"}, "age"),
        ({"name": "a", "age": -1}, "age"),
        ({"name": "a", "age": 151}, "age"),
        ({"name": "a", "age": "old"}, "age"),
        ({"name": "a", "age": 3.5}, "age"),
        ({"name": "a", "age": 10**40}, "age"),
        ({"name": "a", "age": 3, "address": "x" * 256}, "address"),
        ({"name": "a", "age": 3, "address": None}, "address"),
    ],
)
def test_invalid_fields_are_400_with_the_field_named(writer, body, field):
    response = writer.post("/api/users/", body, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not User.objects.exists()


def test_a_lone_surrogate_is_400(writer):
    raw = b'{"name": "a", "age": 3, "address": "\\ud800"}'
    response = writer.generic("POST", "/api/users/", raw, content_type="application/json")
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["detail"]
    assert not User.objects.exists()


def test_boundaries_are_accepted(writer):
    body = create(writer, name="x" * 100, age=150, address="y" * 255)
    assert (len(body["name"]), body["age"], len(body["address"])) == (100, 150, 255)
    assert create(writer, name="z", age=0)["age"] == 0


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"[1, 2]", b'"a string"', b"42", b"null", b"[" * 60_000, b"NaN"],
)
def test_malformed_or_non_object_bodies_are_400(writer, raw):
    response = writer.generic("POST", "/api/users/", raw, content_type="application/json")

    assert response.status_code == 400
    assert not User.objects.exists()


def test_bodies_that_are_not_json_are_415(writer):
    response = writer.post("/api/users/", {"name": "a", "age": 1}, format="multipart")
    assert response.status_code == 415


@pytest.mark.parametrize(
    "user_id", ["absent", "abc", "99999999999999999999999999", "-1", "1.5", "%00", "0x10"]
)
@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("get", ""),
        ("patch", ""),
        ("put", ""),
        ("delete", ""),
        ("post", "increment/"),
        ("post", "decrement/"),
    ],
)
def test_unknown_ids_of_any_shape_are_404(writer, user_id, method, suffix):
    if user_id == "absent":  # well-formed for the backend, and no user's
        user_id = absent_id()
    body = {"name": "a", "age": 1} if method in {"put", "patch"} else {}
    response = getattr(writer, method)(f"/api/users/{user_id}/{suffix}", body, format="json")
    assert response.status_code == 404


def test_patch_changes_only_the_given_fields_and_never_points(writer, api):
    user = create(writer, name="a", age=10, address="old")
    change(writer, user["id"], "increment", 4)

    response = writer.patch(
        f"/api/users/{user['id']}/", {"address": "new", "points": 100}, format="json"
    )

    assert response.status_code == 200
    assert response.json() | {"id": 0} == {
        "id": 0,
        "name": "a",
        "age": 10,
        "address": "new",
        "points": 4,
        "rank": 1,
    }


@pytest.mark.parametrize("body", [{"age": 200}, {"name": ""}, {"address": "x" * 300}, [1]])
def test_invalid_patch_is_400_and_changes_nothing(writer, body):
    user = create(writer, name="a", age=10)

    response = writer.patch(f"/api/users/{user['id']}/", body, format="json")

    assert response.status_code == 400
    assert User.objects.values("name", "age", "address").get() == {
        "name": "a",
        "age": 10,
        "address": "",
    }


def test_put_needs_every_required_field(writer):
    user = create(writer, name="a", age=10)
    assert writer.put(f"/api/users/{user['id']}/", {"name": "b"}, format="json").status_code == 400
    response = writer.put(f"/api/users/{user['id']}/", {"name": "b", "age": 11}, format="json")
    assert (response.status_code, response.json()["name"]) == (200, "b")


def test_delete_is_soft_and_removes_the_user_everywhere(writer, api):
    keep, gone = create(writer, name="keep", age=20), create(writer, name="gone", age=40)
    change(writer, gone["id"], "increment", 5)

    assert writer.delete(f"/api/users/{gone['id']}/").status_code == 204

    assert api.get(f"/api/users/{gone['id']}/").status_code == 404
    assert [u["id"] for u in api.get("/api/users/").json()["results"]] == [keep["id"]]
    assert api.get("/api/users/?points=5").json()["count"] == 0
    groups = api.get("/api/users/grouped-by-score/").json()["results"]
    assert groups == [
        {
            "points": 0,
            "count": 1,
            "average_age": 20.0,
            "users": [{"id": keep["id"], "name": "keep", "age": 20, "address": ""}],
        }
    ]
    assert writer.delete(f"/api/users/{gone['id']}/").status_code == 404
    assert change(writer, gone["id"], "increment").status_code == 404
    assert User.objects.filter(pk=gone["id"]).exists()  # the row stays for the history
    assert_index_matches_db()


def test_writes_without_a_valid_token_are_401_and_change_nothing(api):
    user = UserFactory()
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-key")
    attempts = [
        api.post("/api/users/", {"name": "a", "age": 1}, format="json"),
        api.patch(f"/api/users/{user.pk}/", {"name": "b"}, format="json"),
        api.delete(f"/api/users/{user.pk}/"),
        api.post(f"/api/users/{user.pk}/increment/"),
    ]
    api.credentials()
    attempts.append(api.post(f"/api/users/{user.pk}/decrement/"))

    assert [r.status_code for r in attempts] == [401] * 5
    assert attempts[-1]["WWW-Authenticate"] == "Token"
    assert User.objects.values_list("name", "points", "deleted_at").get() == (user.name, 0, None)


def test_reads_are_anonymous(api):
    user = UserFactory()
    assert api.get("/api/users/").status_code == 200
    assert api.get(f"/api/users/{user.pk}/").status_code == 200
    assert api.get("/api/users/grouped-by-score/").status_code == 200
    assert api.options("/api/users/").status_code == 200
    assert api.head("/api/users/").status_code == 200


def test_points_filter_keeps_exact_matches_with_their_ranks(api):
    users = [UserFactory(points=p) for p in [5, 3, 5, 1]]

    body = api.get("/api/users/?points=5").json()

    assert body["count"] == 2
    assert [(u["id"], u["rank"]) for u in body["results"]] == [
        (wire_id(users[0].pk), 1),
        (wire_id(users[2].pk), 1),
    ]
    assert api.get("/api/users/?points=4").json() == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }


@pytest.mark.parametrize("value", ["abc", "1.5", "-1", str(2**31), "9" * 40])
def test_bad_points_filter_is_400(api, value):
    response = api.get(f"/api/users/?points={value}")
    assert response.status_code == 400
    assert "points" in response.json()


def test_pagination_walks_the_board_with_limit_and_offset(api):
    users = [UserFactory(points=p % 7) for p in range(120)]
    expected = [wire_id(u.pk) for u in sorted(users, key=lambda u: (-u.points, u.pk))]

    first = api.get("/api/users/").json()
    assert (first["count"], len(first["results"]), first["previous"]) == (120, 50, None)
    assert "limit=50" in first["next"]
    assert "offset=50" in first["next"]

    seen, url = [], "/api/users/?limit=37"
    while url:
        page = api.get(url).json()
        seen += [u["id"] for u in page["results"]]
        url = page["next"]
    assert seen == expected


def test_deep_pages_keep_order_and_ranks(api):
    users = [UserFactory(points=p // 3) for p in range(600)]  # 200 distinct scores, 3 each
    ordered = sorted(users, key=lambda u: (-u.points, u.pk))

    page = api.get("/api/users/?limit=10&offset=583").json()["results"]

    assert [u["id"] for u in page] == [wire_id(u.pk) for u in ordered[583:593]]
    assert [u["rank"] for u in page] == [1 + 3 * ((583 + i) // 3) for i in range(10)]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=0", "limit must be a whole number from 1 to 500."),
        ("limit=-5", "limit must be a whole number from 1 to 500."),
        ("limit=abc", "limit must be a whole number from 1 to 500."),
        ("limit=", "limit must be a whole number from 1 to 500."),
        ("limit=null", "limit must be a whole number from 1 to 500."),
        ("limit=2.5", "limit must be a whole number from 1 to 500."),
        ("limit=501", "limit must be a whole number from 1 to 500."),
        ("limit=" + "9" * 40, "limit must be a whole number from 1 to 500."),
        ("offset=-3", "offset must be a whole number from 0 to 2,147,483,647."),
        ("offset=abc", "offset must be a whole number from 0 to 2,147,483,647."),
        ("offset=" + "9" * 40, "offset must be a whole number from 0 to 2,147,483,647."),
    ],
)
@pytest.mark.parametrize("path", ["/api/users/", "/api/users/grouped-by-score/", "/api/winners/"])
def test_pagination_values_out_of_bounds_are_400_that_say_what_is_allowed(
    api, path, query, message
):
    UserFactory.create_batch(3)
    response = api.get(f"{path}?{query}")
    assert response.status_code == 400
    assert message in response.json()[query.split("=")[0]]


def test_the_largest_page_and_an_offset_past_the_end_are_fine(api):
    UserFactory.create_batch(501)
    assert len(api.get("/api/users/?limit=500").json()["results"]) == 500
    assert api.get("/api/users/?offset=2147483647").json()["results"] == []


def test_groups_hold_counts_average_ages_and_users_in_board_order(api):
    a = UserFactory(points=10, age=20)
    b = UserFactory(points=5, age=30)
    c = UserFactory(points=10, age=31)
    d = UserFactory(points=5, age=33)
    e = UserFactory(points=5, age=40)
    user_delete(user_id=UserFactory(points=5, age=99).pk)  # deleted: not counted

    body = api.get("/api/users/grouped-by-score/").json()

    assert body["count"] == 2
    top, second = body["results"]
    assert (top["points"], top["count"], top["average_age"]) == (10, 2, 25.5)
    assert [u["id"] for u in top["users"]] == [wire_id(a.pk), wire_id(c.pk)]
    assert (second["points"], second["count"], second["average_age"]) == (5, 3, 34.33)
    assert [u["id"] for u in second["users"]] == [wire_id(u.pk) for u in (b, d, e)]
    assert set(top["users"][0]) == {"id", "name", "age", "address"}


def test_groups_cap_users_but_not_count_and_page_by_group(api):
    UserFactory.create_batch(5, points=3, age=30)
    UserFactory.create_batch(2, points=2, age=50)
    UserFactory.create_batch(1, points=1, age=10)

    body = api.get("/api/users/grouped-by-score/?users_per_group=2&limit=2&offset=0").json()

    assert body["count"] == 3
    assert [(g["points"], g["count"], len(g["users"])) for g in body["results"]] == [
        (3, 5, 2),
        (2, 2, 2),
    ]
    rest = api.get(body["next"]).json()["results"]
    assert [(g["points"], g["average_age"]) for g in rest] == [(1, 10.0)]


@pytest.mark.parametrize("value", ["0", "1001", "abc", "-1", "9" * 40])
def test_bad_users_per_group_is_400(api, value):
    response = api.get(f"/api/users/grouped-by-score/?users_per_group={value}")
    assert response.status_code == 400
    assert "users_per_group" in response.json()


def test_an_empty_board(api):
    assert api.get("/api/users/").json() == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }
    assert api.get("/api/users/grouped-by-score/").json()["count"] == 0


def test_a_points_filter_pages_deep_into_one_score(api):
    users = [UserFactory(points=5 if i % 3 else 2) for i in range(60)]
    fives = [wire_id(u.pk) for u in users if u.points == 5]

    page = api.get("/api/users/?points=5&limit=7&offset=30").json()

    assert page["count"] == 40
    assert [u["id"] for u in page["results"]] == fives[30:37]
    assert api.get("/api/users/?points=5&offset=39").json()["results"][0]["id"] == fives[39]
    assert api.get("/api/users/?points=5&offset=40").json()["results"] == []
