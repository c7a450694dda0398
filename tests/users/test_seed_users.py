import pytest
from django.core.management import CommandError, call_command

from tests.conftest import assert_index_matches_db, manage
from users import ranking
from users.models import User

pytestmark = pytest.mark.django_db(transaction=True)


def people() -> list[tuple]:
    return list(User.objects.order_by("pk").values_list("name", "age", "address", "points"))


def test_seeds_the_count_asked_for_with_realistic_values():
    call_command("seed_users", count=1234, max_points=7, batch_size=500)

    assert User.objects.count() == 1234
    ages = User.objects.values_list("age", flat=True)
    assert min(ages) >= 18
    assert max(ages) <= 80
    points = set(User.objects.values_list("points", flat=True))
    assert points == set(range(8))
    assert all(name.strip() for name in User.objects.values_list("name", flat=True)[:50])
    assert User.objects.exclude(address="").count() == 1234
    assert_index_matches_db()


def test_the_same_seed_gives_the_same_users():
    call_command("seed_users", count=300, seed=42)
    first = people()
    User.objects.all().delete()

    call_command("seed_users", count=300, seed=42)
    assert people() == first

    User.objects.all().delete()
    call_command("seed_users", count=300, seed=43)
    assert people() != first


def test_an_index_that_was_not_ready_is_built_whole_after_seeding():
    ranking.flush()

    call_command("seed_users", count=50)

    assert_index_matches_db()


def test_the_command_shows_a_progress_bar():
    result = manage("seed_users", "--count", "20")

    assert "Created 20 users." in result.stdout
    assert "20/20" in result.stderr
    assert "users/s" in result.stderr


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"count": 0}, "--count"),
        ({"count": 5, "max_points": -1}, "--max-points"),
        ({"count": 5, "batch_size": 0}, "--batch-size"),
    ],
)
def test_bad_options_say_what_to_fix(options, message):
    with pytest.raises(CommandError, match=message):
        call_command("seed_users", **options)
    assert not User.objects.exists()
