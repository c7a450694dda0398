import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import ApiToken

pytestmark = pytest.mark.django_db(transaction=True)


def test_creating_a_token_in_the_admin_shows_its_key_once_and_never_in_a_cookie():
    admin = get_user_model().objects.create_superuser("admin", "a@example.com", "pw")
    client = Client()
    client.force_login(admin)

    page = client.post("/admin/accounts/apitoken/add/", {"account": admin.pk})

    key = page.context["key"]
    assert key in page.content.decode()
    assert "no-store" in page["Cache-Control"]
    assert not any(key in morsel.value for morsel in page.cookies.values())
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.post("/api/users/", {"name": "a", "age": 1}, format="json").status_code == 201
    assert key not in client.get("/admin/accounts/apitoken/").content.decode()
    assert ApiToken.objects.get().prefix == key[:8]
