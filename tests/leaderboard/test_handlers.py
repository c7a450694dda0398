"""The WSGI application that gunicorn serves: API calls without cookies take the shorter
middleware stack, and everything the site's stack does for pages and sessions still holds."""

import io
import json
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.services import token_issue
from leaderboard.wsgi import application
from users.factories import UserFactory
from users.models import User

pytestmark = pytest.mark.django_db(transaction=True)


def call(method: str, path: str, body: bytes = b"", **headers: str) -> tuple[int, dict, bytes]:
    """One request through ``leaderboard.wsgi.application``: status, headers and body."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path.partition("?")[0],
        "QUERY_STRING": path.partition("?")[2],
        "HTTP_HOST": "testserver",
        "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)),
        **{f"HTTP_{name.upper()}": value for name, value in headers.items()},
    }
    if body:
        environ["CONTENT_TYPE"] = "application/json"
    setup_testing_defaults(environ)
    answered: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]], *_: Any) -> None:
        answered["status"] = int(status.split()[0])
        answered["headers"] = {name.lower(): value for name, value in response_headers}

    content = b"".join(application(environ, start_response))
    return answered["status"], answered["headers"], content


def test_a_token_changes_points_through_the_api_stack_and_gets_no_cookie():
    user = UserFactory(points=5)
    key = token_issue(username="studio")

    status, headers, body = call(
        "POST", f"/api/users/{user.pk}/increment/", b'{"by": 3}', authorization=f"Token {key}"
    )

    assert status == 200
    assert json.loads(body)["points"] == 8
    assert User.objects.get(pk=user.pk).points == 8
    assert "set-cookie" not in headers


def test_anonymous_writes_are_refused_through_the_api_stack():
    user = UserFactory(points=5)

    status, headers, _ = call("POST", f"/api/users/{user.pk}/increment/", b"{}")

    assert status == 401
    assert headers["www-authenticate"] == "Token"
    assert User.objects.get(pk=user.pk).points == 5


def test_a_staff_session_on_the_api_takes_the_site_stack_with_its_csrf_check():
    staff = get_user_model().objects.create_user("staff", password="pw", is_staff=True)
    browser = Client()
    browser.force_login(staff)
    session = browser.cookies["sessionid"].value
    body = b'{"name": "Ada", "age": 30}'

    refused, _, _ = call("POST", "/api/users/", body, cookie=f"sessionid={session}")
    status, _, _ = call("GET", "/api/users/", cookie=f"sessionid={session}")

    assert refused == 403  # signed in by its session, so CSRF applies
    assert status == 200
    assert not User.objects.exists()


def test_pages_keep_the_site_stack_headers():
    status, headers, _ = call("GET", "/")

    assert status == 200
    assert headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
