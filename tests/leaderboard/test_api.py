"""leaderboard/api.py: what every API answer shares."""

import pytest

from users.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    "accept", [None, "*/*", "application/json", "application/json; indent=2", "text/html, */*"]
)
def test_clients_that_accept_json_get_json(api, accept):
    UserFactory()
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}

    response = api.get("/api/users/", **headers)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json()["count"] == 1


@pytest.mark.parametrize(
    ("asked", "status"),
    [({"HTTP_ACCEPT": "text/html"}, 406), ({"QUERY_STRING": "format=xml"}, 404)],
)
def test_a_client_that_does_not_accept_json_is_told_so(api, asked, status):
    assert api.get("/api/users/", **asked).status_code == status
