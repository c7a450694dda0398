import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_redis import get_redis_connection

from leaderboard.processes import autogroups
from tests.conftest import ROOT, assert_index_matches_db, manage, subprocess_env
from users.management.commands.seed_users import NICENESS
from users.models import User
from winners.services import Outcome, winner_declare

pytestmark = pytest.mark.django_db(transaction=True)


def people() -> list[tuple]:
    return list(User.objects.order_by("pk").values_list("name", "age", "address", "points"))


def test_seeds_the_count_asked_for_with_realistic_values():
    call_command("seed_users", count=1234, max_points=40, batch_size=500)

    assert User.objects.count() == 1234
    ages = User.objects.values_list("age", flat=True)
    assert min(ages) >= 18
    assert max(ages) <= 80
    assert all(name.strip() for name in User.objects.values_list("name", flat=True)[:50])
    assert User.objects.exclude(address="").count() == 1234
    assert_index_matches_db()


def test_points_are_long_tailed_under_the_cap_with_one_leader():
    call_command("seed_users", count=5000, max_points=100, seed=3)

    points = sorted(User.objects.values_list("points", flat=True), reverse=True)
    assert points[0] <= 100
    assert points[0] > points[1]  # one leader
    low, middle, high = (
        sum(lo <= p < hi for p in points) for lo, hi in [(0, 10), (10, 30), (30, 101)]
    )
    assert low > middle > high > 0  # many low scores, few high


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_seeded_board_has_a_winner(seed):
    call_command("seed_users", count=3000, seed=seed)

    assert winner_declare(at=timezone.now()).outcome == Outcome.DECLARED


def test_no_two_seeded_users_share_a_name_and_an_address_up_to_the_pool_size():
    call_command("seed_users", count=600, seed=5)

    pairs = list(User.objects.values_list("name", "address"))
    assert len(set(pairs)) == len(pairs) == 600


def test_the_same_seed_gives_the_same_users():
    call_command("seed_users", count=300, seed=42)
    first = people()
    User.objects.all().delete()

    call_command("seed_users", count=300, seed=42)
    assert people() == first

    User.objects.all().delete()
    call_command("seed_users", count=300, seed=43)
    assert people() != first


def test_a_missing_index_is_built_whole_after_seeding():
    get_redis_connection("default").flushdb()

    call_command("seed_users", count=50)

    assert_index_matches_db()


def test_the_command_shows_a_progress_bar():
    result = manage("seed_users", "--count", "20")

    assert "Created 20 users." in result.stdout
    assert "20/20" in result.stderr
    assert "users/s" in result.stderr


def _children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _own_group_nice(pid: int) -> int:
    """The nice value of ``pid``'s autogroup, if it leads a session of its own; else 0."""
    if os.getsid(pid) != pid:
        return 0
    return int(Path(f"/proc/{pid}/autogroup").read_text().split()[-1])


def test_a_seed_from_the_shell_gives_way_to_the_service_on_the_cpu():
    seeding = subprocess.Popen(
        [sys.executable, "manage.py", "seed_users", "--count", "20000"],
        cwd=ROOT,
        env=subprocess_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    grouped = autogroups()
    seen = group_seen = 0
    try:
        while (seen, group_seen) < (NICENESS, NICENESS if grouped else 0):
            if seeding.poll() is not None:
                break
            with contextlib.suppress(OSError):  # it may end meanwhile
                seen = os.getpriority(os.PRIO_PROCESS, seeding.pid)
                if grouped:
                    group_seen = max([group_seen, *map(_own_group_nice, _children(seeding.pid))])
            time.sleep(0.01)
    finally:
        assert seeding.wait(timeout=120) == 0

    assert seen >= NICENESS  # while it ran
    # Linux shares the CPU between sessions' groups first: the work runs in a group of its
    # own, with that nice value, or the service's processes would not see it.
    assert group_seen >= (NICENESS if grouped else 0)
    assert os.getpriority(os.PRIO_PROCESS, 0) < NICENESS  # called in-process, it changes none
    call_command("seed_users", count=5)
    assert os.getpriority(os.PRIO_PROCESS, 0) < NICENESS


def test_a_seed_on_a_busy_machine_rests_between_its_batches_and_says_so(index_trusted_throughout):
    # More busy processes than CPUs, each in a session (an autogroup) of its own, as a
    # loaded service's are.
    busy = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True)
        for _ in range(len(os.sched_getaffinity(0)) + 1)
    ]
    try:
        result = manage("seed_users", "--count", "600", "--batch-size", "200")
    finally:
        for process in busy:
            process.kill()
            process.wait()

    assert "giving way to a busy machine" in result.stderr
    assert User.objects.count() == 600
    assert_index_matches_db()


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
