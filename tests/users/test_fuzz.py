"""No client input, however malformed, produces a 5xx; a rejected write changes nothing."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from users.factories import UserFactory
from users.models import User

pytestmark = pytest.mark.django_db(transaction=True)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
user_bodies = st.fixed_dictionaries(
    {},
    optional={
        "name": json_values,
        "age": json_values,
        "address": json_values,
        "points": json_values,
        "by": json_values,
    },
)
bodies = user_bodies | json_values | st.binary(max_size=64).map(lambda b: b.decode("latin-1"))
ids = st.integers(min_value=-(2**70), max_value=2**70).map(str) | st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="/?#"),
    min_size=1,
    max_size=30,
)
queries = st.dictionaries(
    st.sampled_from(["limit", "offset", "points", "users_per_group", "x"]),
    st.text(max_size=25) | st.integers(min_value=-(2**70), max_value=2**70).map(str),
    max_size=4,
)
FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def send(client, method: str, path: str, body) -> int:
    """Strings go as they are (mostly not JSON at all); anything else as JSON."""
    raw = body if isinstance(body, str) else json.dumps(body)
    return client.generic(method, path, raw, content_type="application/json").status_code


@FUZZ
@given(body=bodies, method=st.sampled_from(["POST", "PUT", "PATCH"]))
def test_any_body_to_the_user_endpoints(writer, body, method):
    user = User.objects.first() or UserFactory(points=3)
    before = list(User.objects.values_list("name", "age", "address", "points"))
    path = "/api/users/" if method == "POST" else f"/api/users/{user.pk}/"

    status = send(writer, method, path, body)

    assert status < 500
    if status >= 400:
        assert list(User.objects.values_list("name", "age", "address", "points")) == before


@FUZZ
@given(body=bodies, action=st.sampled_from(["increment", "decrement"]))
def test_any_body_to_the_points_endpoints(writer, body, action):
    user = User.objects.first() or UserFactory(points=3)
    before = User.objects.get(pk=user.pk).points

    status = send(writer, "POST", f"/api/users/{user.pk}/{action}/", body)

    assert status < 500
    if status >= 400:
        assert User.objects.get(pk=user.pk).points == before


@FUZZ
@given(
    user_id=ids,
    suffix=st.sampled_from(["", "increment/", "decrement/"]),
    method=st.sampled_from(["GET", "DELETE", "POST", "PATCH"]),
)
def test_any_id(writer, user_id, suffix, method):
    from urllib.parse import quote

    status = send(writer, method, f"/api/users/{quote(user_id, safe='')}/{suffix}", {})

    assert status < 500


@FUZZ
@given(
    query=queries,
    path=st.sampled_from(["/api/users/", "/api/users/grouped-by-score/", "/api/winners/"]),
)
def test_any_query_string(api, query, path):
    if not User.objects.exists():
        UserFactory.create_batch(2, points=1)

    assert api.get(path, query).status_code < 500
