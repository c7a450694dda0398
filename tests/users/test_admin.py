import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.conftest import assert_index_matches_db
from users.factories import UserFactory
from users.models import User
from users.services import user_delete, users_bulk_create

pytestmark = pytest.mark.django_db(transaction=True)

CHANGELIST = "/admin/users/user/"


@pytest.fixture
def staff() -> Client:
    admin = get_user_model().objects.create_superuser("admin", "admin@example.com", "pw")
    client = Client()
    client.force_login(admin)
    return client


def act(client: Client, action: str, users: list[User], **query: str):
    return client.post(
        CHANGELIST + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""),
        {"action": action, "_selected_action": [u.pk for u in users]},
        follow=True,
    )


def test_the_list_shows_rank_and_points_in_board_order(staff):
    low, high, tied = UserFactory(points=1), UserFactory(points=9), UserFactory(points=9)

    page = staff.get(CHANGELIST)

    assert page.status_code == 200
    rows = page.context["cl"].result_list
    assert [u.pk for u in rows] == [high.pk, tied.pk, low.pk]
    assert [u.rank for u in rows] == [1, 1, 3]
    assert b"column-rank" in page.content


def test_plus_and_minus_actions_go_through_the_service(staff):
    a, b = UserFactory(points=0), UserFactory(points=3)

    act(staff, "points_add_1", [a, b])
    response = act(staff, "points_take_1", [a, b])
    response = act(staff, "points_take_1", [a, b])

    assert User.objects.get(pk=a.pk).points == 0
    assert User.objects.get(pk=b.pk).points == 2
    assert User.objects.get(pk=b.pk).version == 3
    assert "below 0" in response.content.decode()
    assert_index_matches_db()


def test_soft_delete_and_restore(staff):
    user = UserFactory(points=4)

    act(staff, "soft_delete", [user])
    assert User.objects.get(pk=user.pk).deleted
    assert user.pk not in [u.pk for u in staff.get(CHANGELIST).context["cl"].result_list]
    deleted = staff.get(CHANGELIST + "?status=deleted").context["cl"].result_list
    assert [u.pk for u in deleted] == [user.pk]

    act(staff, "restore", [user], status="deleted")

    assert not User.objects.get(pk=user.pk).deleted
    assert_index_matches_db()


def test_adding_and_editing_in_the_admin_keeps_the_index_in_step(staff):
    staff.post("/admin/users/user/add/", {"name": "New", "age": 30, "address": ""})
    user = User.objects.get()
    assert_index_matches_db()

    staff.post(
        f"/admin/users/user/{user.pk}/change/", {"name": "Renamed", "age": 31, "address": "x"}
    )

    assert User.objects.values_list("name", "age", "points").get() == ("Renamed", 31, 0)


def test_the_admin_cannot_hard_delete(staff):
    user = UserFactory()
    assert staff.post(f"/admin/users/user/{user.pk}/delete/", {"post": "yes"}).status_code == 403
    assert User.objects.filter(pk=user.pk).exists()


@pytest.fixture
def ten_thousand_users(index_trusted_throughout: None) -> None:
    # Plain names and addresses: Faker would spend a second on them, and the queries are the
    # same. Filling them on MongoDB can outlast the index's trust bound, and the list would
    # then count the table as the fallback does.
    users = UserFactory.build_batch(10_000, scored=True, name="Player", address="")
    users_bulk_create(users, batch_size=2000)
    user_delete(user_id=User.objects.order_by("pk")[0].pk)


def test_the_changelist_at_10k_users_needs_few_queries(
    staff, ten_thousand_users, django_assert_max_num_queries
):
    # One set of users for every view of the list: filling it is what costs.
    for query in ["", "?p=150", "?q=a", "?status=deleted", "?o=3", "?o=-1"]:
        # Session, user, the page, and a count only when filtered or searched.
        with django_assert_max_num_queries(6, info=query):
            response = staff.get(CHANGELIST + query)
        assert response.status_code == 200, query


def test_the_unfiltered_changelist_never_counts_the_whole_table(
    staff, ten_thousand_users, django_assert_max_num_queries
):
    with django_assert_max_num_queries(4) as queries:
        response = staff.get(CHANGELIST)
    assert response.context["cl"].result_count == 9_999
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)
