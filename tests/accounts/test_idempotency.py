"""Idempotency-Key: a retried write is answered again, not written again."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import IdempotentRequest
from accounts.services import token_issue
from accounts.tasks import purge_idempotency_keys
from users.factories import UserFactory
from users.models import User

pytestmark = pytest.mark.django_db(transaction=True)


def client_for(username: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(username=username)}")
    return client


def increment(client: APIClient, user: User, key: str, by: int = 5):
    return client.post(
        f"/api/users/{user.pk}/increment/", {"by": by}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )


def test_a_retried_increment_is_answered_again_and_counted_once(writer):
    user = UserFactory(points=10)

    first = increment(writer, user, "key-1")
    again = increment(writer, user, "key-1")

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert User.objects.get(pk=user.pk).points == 15


def test_a_retried_create_makes_one_user(writer):
    body = {"name": "Ada", "age": 36}
    first = writer.post("/api/users/", body, format="json", HTTP_IDEMPOTENCY_KEY="create-ada")
    again = writer.post("/api/users/", body, format="json", HTTP_IDEMPOTENCY_KEY="create-ada")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] == first.json()["id"]
    assert User.objects.count() == 1


def test_the_same_key_with_another_body_is_422_and_changes_nothing(writer):
    user = UserFactory(points=10)
    increment(writer, user, "key-2", by=5)

    other = increment(writer, user, "key-2", by=50)

    assert other.status_code == 422
    assert "different request" in other.json()["detail"]
    assert User.objects.get(pk=user.pk).points == 15


def test_keys_belong_to_an_account():
    user = UserFactory(points=0)

    increment(client_for("studio-a"), user, "shared")
    increment(client_for("studio-b"), user, "shared")

    assert User.objects.get(pk=user.pk).points == 10


def test_a_refused_write_leaves_its_key_free_for_a_retry(writer):
    user = UserFactory(points=2)
    refused = writer.post(
        f"/api/users/{user.pk}/decrement/", {"by": 5}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert refused.status_code == 409
    User.objects.filter(pk=user.pk).update(points=7)

    retried = writer.post(
        f"/api/users/{user.pk}/decrement/", {"by": 5}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )

    assert retried.status_code == 200
    assert User.objects.get(pk=user.pk).points == 2


def test_concurrent_retries_write_exactly_once():
    user = UserFactory(points=0)
    key = token_issue(username="racer")
    start = threading.Barrier(8)
    statuses = []

    def send() -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        start.wait()
        try:
            statuses.append(increment(client, user, "race").status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200] * 8
    assert User.objects.get(pk=user.pk).points == 5


def test_exactly_once_holds_while_redis_is_down(disposable_redis, writer):
    user = UserFactory(points=0)
    disposable_redis.stop()

    assert increment(writer, user, "no-redis").status_code == 200
    assert increment(writer, user, "no-redis")["Idempotent-Replayed"] == "true"
    assert User.objects.get(pk=user.pk).points == 5


def test_keys_are_kept_a_day_then_purged_and_free_again(writer):
    user = UserFactory(points=0)
    increment(writer, user, "old")
    IdempotentRequest.objects.update(created_at=timezone.now() - timedelta(hours=25))

    assert increment(writer, user, "old").status_code == 200
    assert "Idempotent-Replayed" not in increment(writer, user, "fresh")
    IdempotentRequest.objects.filter(key="fresh").update(
        created_at=timezone.now() - timedelta(hours=25)
    )
    purge_idempotency_keys()

    assert list(IdempotentRequest.objects.values_list("key", flat=True)) == ["old"]
    assert User.objects.get(pk=user.pk).points == 15


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\tkey"])
def test_a_malformed_key_is_400(writer, key):
    user = UserFactory(points=0)

    response = increment(writer, user, key)

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert User.objects.get(pk=user.pk).points == 0


@pytest.mark.parametrize(
    ("first", "again"),
    [('{"by": 5}', '{"by":5}'), ('{"name": "Ada", "age": 36}', '{ "age":36,"name":"Ada" }')],
)
def test_a_retry_spaced_or_ordered_differently_is_the_same_request(writer, first, again):
    user = UserFactory(points=10)
    path = f"/api/users/{user.pk}/increment/" if "by" in first else "/api/users/"

    answers = [
        writer.generic(
            "POST", path, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k"
        )
        for body in (first, again)
    ]

    assert [a.status_code for a in answers] in ([200, 200], [201, 201])
    assert answers[1]["Idempotent-Replayed"] == "true"
    assert answers[1].json() == answers[0].json()
    assert User.objects.get(pk=user.pk).points == (15 if "by" in first else 10)
    assert User.objects.count() == (1 if "by" in first else 2)


def test_a_retried_create_whose_user_was_deleted_since_is_410_and_makes_none(writer):
    body = {"name": "Ada", "age": 36}
    first = writer.post("/api/users/", body, format="json", HTTP_IDEMPOTENCY_KEY="create-ada")
    writer.delete(f"/api/users/{first.json()['id']}/")

    again = writer.post("/api/users/", body, format="json", HTTP_IDEMPOTENCY_KEY="create-ada")

    assert again.status_code == 410
    assert "deleted since" in again.json()["detail"]
    assert not User.objects.alive().exists()
