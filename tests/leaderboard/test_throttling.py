"""Throttling: anonymous reads per client address, writes per account; admin lockouts."""

import time

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

from accounts.services import token_issue
from users.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def rates(settings):
    settings.THROTTLE_ANON = "5/minute"
    settings.THROTTLE_WRITES = "3/minute"
    return settings


def reads(client: APIClient, count: int, **extra) -> list[int]:
    return [client.get("/api/users/", **extra).status_code for _ in range(count)]


def test_anonymous_reads_over_the_rate_get_429_with_retry_after(rates, api):
    assert reads(api, 5) == [200] * 5

    refused = api.get("/api/users/")

    assert refused.status_code == 429
    # The window is counted in tenths: the oldest request leaves it within 66 seconds.
    assert 0 < int(refused["Retry-After"]) <= 66
    assert "Try again in" in refused.json()["detail"]


def test_the_rate_is_per_client_address(rates, api):
    reads(api, 5, REMOTE_ADDR="10.0.0.1")

    assert api.get("/api/users/", REMOTE_ADDR="10.0.0.1").status_code == 429
    assert api.get("/api/users/", REMOTE_ADDR="10.0.0.2").status_code == 200


def test_behind_a_proxy_the_forwarded_address_counts(rates, api):
    rates.NUM_PROXIES = 1
    proxy = {"REMOTE_ADDR": "10.9.9.9"}
    reads(api, 5, HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy)

    assert api.get("/api/users/", HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy).status_code == 429
    assert api.get("/api/users/", HTTP_X_FORWARDED_FOR="203.0.113.8", **proxy).status_code == 200


def test_reads_kept_for_a_second_are_counted_too(rates, api):
    rates.LEADERBOARD_PUBLIC_CACHE_SECONDS = 30
    assert reads(api, 6) == [200] * 5 + [429]


def test_probes_and_the_page_are_never_throttled(rates, api):
    for path in ["/healthz", "/readyz"]:
        assert {api.get(path).status_code for _ in range(8)} == {200}


def test_writes_over_the_rate_get_429_per_account(rates):
    user = UserFactory()
    first, second = APIClient(), APIClient()
    first.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(username='one')}")
    second.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(username='two')}")

    statuses = [first.post(f"/api/users/{user.pk}/increment/").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    assert first.post(f"/api/users/{user.pk}/increment/")["Retry-After"]
    assert second.post(f"/api/users/{user.pk}/increment/").status_code == 200
    user.refresh_from_db()
    assert user.points == 4


def test_off_turns_a_rate_off(settings, api):
    settings.THROTTLE_ANON = "off"
    assert set(reads(api, 20)) == {200}


def test_with_redis_away_requests_are_let_through(rates, disposable_redis, api):
    disposable_redis.stop()
    assert set(reads(api, 12)) == {200}


def test_admin_sign_in_is_locked_out_after_five_failures():
    get_user_model().objects.create_superuser("admin", "a@example.com", "right-password")
    client = Client()

    statuses = [
        client.post("/admin/login/", {"username": "admin", "password": "wrong"}).status_code
        for _ in range(5)
    ]
    locked = client.post("/admin/login/", {"username": "admin", "password": "right-password"})

    assert statuses == [200, 200, 200, 200, 429]  # the form and its error, then locked out
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    "credentials",
    [
        {"HTTP_AUTHORIZATION": "x"},
        {"HTTP_AUTHORIZATION": "Bearer abc"},
        {"HTTP_COOKIE": "sessionid=x"},
    ],
    ids=["any-header", "bearer", "bogus-session"],
)
@pytest.mark.parametrize("path", ["/api/users/", "/api/users/grouped-by-score/"])
def test_a_made_up_header_or_cookie_is_anonymous_and_throttled(rates, api, credentials, path):
    assert [api.get(path).status_code for _ in range(5)] == [200] * 5

    assert api.get(path, **credentials).status_code == 429
    elsewhere = api.get(path, REMOTE_ADDR="10.0.0.9", **credentials)
    assert elsewhere.status_code == 200
    if path == "/api/users/":  # answered as to anyone: the shared copy may serve it
        assert elsewhere["Cache-Control"].startswith("public")


def test_a_made_up_token_is_401_and_counted_as_anonymous(rates, api):
    bogus = {"HTTP_AUTHORIZATION": "Token 0123456789abcdef"}

    refused = api.get("/api/users/", **bogus)

    assert refused.status_code == 401
    assert refused["WWW-Authenticate"] == "Token"
    assert refused.json() == {"detail": "Invalid token."}
    assert reads(api, 5, **bogus) == [401] * 4 + [429]


def test_only_a_valid_token_or_session_escapes_the_anonymous_rate(rates, api, admin_client):
    reader = APIClient()
    reader.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(username='reader')}")
    assert reads(api, 5) == [200] * 5

    assert reads(reader, 8) == [200] * 8
    assert "public" not in reader.get("/api/users/").get("Cache-Control", "")
    assert {admin_client.get("/api/users/").status_code for _ in range(8)} == {200}


def test_a_revoked_token_stops_within_its_trusted_seconds(rates, settings, api):
    from accounts.authentication import TRUSTED_SECONDS, HashedTokenAuthentication
    from accounts.models import ApiToken

    reader = APIClient()
    reader.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(username='reader')}")
    assert reader.get("/api/users/").status_code == 200

    ApiToken.objects.all().delete()
    HashedTokenAuthentication._checked.clear()  # as TRUSTED_SECONDS later

    assert TRUSTED_SECONDS <= 5
    assert reader.get("/api/users/").status_code == 401


def test_writes_are_limited_over_any_window_across_its_boundary(settings):
    """A rate of 3 a second: 3 writes just before a second's end, then one just after it,
    is 4 in under a second (a fixed window would let it through)."""
    settings.THROTTLE_WRITES = "3/second"
    user = UserFactory()
    writer = APIClient()
    writer.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(username='one')}")
    writer.post(f"/api/users/{user.pk}/increment/")  # warm: the first request costs more
    warm = time.time()
    # Well after the warm-up has left the window, at 0.7 s into a second.
    wait_until(lambda: time.time() - warm > 1.2 and 0.7 <= time.time() % 1 < 0.75)
    started = time.time()

    before = [writer.post(f"/api/users/{user.pk}/increment/").status_code for _ in range(3)]
    wait_until(lambda: time.time() % 1 < 0.5 and time.time() - started > 0.35)
    after = writer.post(f"/api/users/{user.pk}/increment/")
    assert time.time() - started < 0.9, "the machine was too slow for this test's timing"
    wait_until(lambda: time.time() - started > 1.25)
    later = writer.post(f"/api/users/{user.pk}/increment/")

    assert before == [200, 200, 200]
    assert after.status_code == 429
    assert int(after["Retry-After"]) >= 1
    assert later.status_code == 200


def wait_until(condition, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)
