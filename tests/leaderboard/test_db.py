"""leaderboard/db/: the PostgreSQL backend's health check, which polls the kept connection's
socket instead of sending a query, and the hot paths' statements, prepared once per
connection."""

import psycopg
import pytest
from django.db import close_old_connections, connection

from tests.conftest import database_url
from users import selectors
from users.factories import UserFactory
from users.models import User
from users.services import points_change

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's backend"),
]


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def a_new_request() -> None:
    """What Django does as a request starts: a kept connection is checked at its next use."""
    close_old_connections()


def test_a_healthy_connection_is_kept_from_one_request_to_the_next():
    UserFactory()
    first = backend_pid()
    a_new_request()

    assert User.objects.count() == 1
    assert backend_pid() == first


def test_a_connection_the_server_closed_is_replaced_before_the_next_query():
    UserFactory()
    gone = backend_pid()
    with psycopg.connect(database_url(), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s, 5000)", [gone])  # waits for its exit
    a_new_request()

    assert User.objects.count() == 1  # no error: the poll saw the server's goodbye
    assert backend_pid() != gone


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_the_points_change_and_a_pages_profiles_are_planned_once_per_connection():
    users = UserFactory.create_batch(3, points=5)
    for _ in range(6):  # psycopg prepares a statement at its fifth run
        points_change(user_id=users[0].pk, delta=1)
        selectors._profile_rows([user.pk for user in users])

    statements = prepared_statements()
    assert any(s.startswith("UPDATE") and "RETURNING" in s for s in statements)
    assert any(s.startswith("SELECT") and "ANY(" in s for s in statements)
    assert User.objects.get(pk=users[0].pk).points == 11
    # Django's own queries keep client-side binding, which never prepares.
    User.objects.count()
    assert not any("COUNT(*)" in s for s in prepared_statements())
