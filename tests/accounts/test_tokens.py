import hashlib

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.models import ApiToken
from users.models import User

pytestmark = pytest.mark.django_db(transaction=True)


def issue(username: str, capsys) -> str:
    call_command("issue_token", username)
    return capsys.readouterr().out.strip()


def post_with(key: str):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.post("/api/users/", {"name": "a", "age": 1}, format="json")


def test_issue_token_prints_a_key_that_writes(capsys):
    key = issue("studio", capsys)

    assert post_with(key).status_code == 201


def test_running_it_again_prints_another_working_key(capsys):
    first, second = issue("studio", capsys), issue("studio", capsys)

    assert first != second
    assert [post_with(k).status_code for k in (first, second)] == [201, 201]


def test_only_a_digest_of_the_key_is_stored(capsys):
    key = issue("studio", capsys)

    stored = ApiToken.objects.values_list("digest", "prefix").get()
    assert stored == (hashlib.sha256(key.encode()).hexdigest(), key[:8])
    assert not ApiToken.objects.filter(digest=key).exists()


@pytest.mark.parametrize("header", ["Token", "Token a b", "Bearer x", "Token " + "x" * 5000])
def test_malformed_headers_are_401(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert client.post("/api/users/", {"name": "a", "age": 1}, format="json").status_code == 401
    assert not User.objects.exists()


def test_a_disabled_account_cannot_write(capsys):
    key = issue("studio", capsys)
    ApiToken.objects.get().account.__class__.objects.update(is_active=False)
    assert post_with(key).status_code == 401


def session_client(*, staff: bool) -> APIClient:
    person = get_user_model().objects.create_user("person", password="pw", is_staff=staff)
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(person)
    return client


def test_a_staff_session_writes_only_with_its_csrf_token():
    client = session_client(staff=True)
    body = {"name": "a", "age": 1}

    assert client.post("/api/users/", body, format="json").status_code == 403
    token = client.get("/").cookies["csrftoken"].value
    response = client.post("/api/users/", body, format="json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201


def test_a_session_that_is_not_staff_cannot_write():
    client = session_client(staff=False)
    token = client.get("/").cookies["csrftoken"].value

    response = client.post(
        "/api/users/", {"name": "a", "age": 1}, format="json", HTTP_X_CSRFTOKEN=token
    )

    assert response.status_code == 403
    assert not User.objects.exists()
