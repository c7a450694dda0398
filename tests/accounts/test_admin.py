import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import ApiToken

pytestmark = pytest.mark.django_db(transaction=True)


def test_creating_a_token_in_the_admin_shows_its_key_once():
    admin = get_user_model().objects.create_superuser("admin", "a@example.com", "pw")
    client = Client()
    client.login(username="admin", password="pw")

    page = client.post("/admin/accounts/apitoken/add/", {"account": admin.pk}, follow=True)

    message = next(str(m) for m in page.context["messages"] if "new key" in str(m))
    key = message.split("The new key is ")[1].split(" ")[0]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.post("/api/users/", {"name": "a", "age": 1}, format="json").status_code == 201
    assert key not in client.get("/admin/accounts/apitoken/").content.decode()
    assert ApiToken.objects.get().prefix == key[:8]
