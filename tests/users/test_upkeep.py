"""The sweep, the rebuild and the fingerprint check: whatever the index missed comes back from the
database, and a lasting difference is found and mended."""

import threading
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_redis import get_redis_connection
from rest_framework.test import APIClient

from tests.conftest import assert_index_matches_db, live_key, redis_unreachable
from users import ranking, upkeep
from users.bulk import NewUser, users_load
from users.factories import UserFactory
from users.models import User
from users.services import points_change
from users.upkeep import leaderboard_check, leaderboard_rebuild, leaderboard_sweep

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_sweep_reads_the_marked_rows_only_and_clears_what_the_index_holds():
    UserFactory.create_batch(40, points=3)
    assert User.objects.filter(index_pending=True).count() == 40  # each write marks its row
    assert leaderboard_sweep() == ranking.Swept(rows=40, cleared=40, backlog=0)
    changed = UserFactory.create_batch(2, points=9)

    with CaptureQueriesContext(connection) as queries:
        swept = leaderboard_sweep()

    assert swept == ranking.Swept(rows=2, cleared=2, backlog=0)
    assert not User.objects.filter(index_pending=True).exists()
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert all("index_pending" in sql or "users_user" not in sql for sql in reads)
    assert {pk for pk, _ in ranking.snapshot()} >= {u.pk for u in changed}


def test_a_write_during_a_rebuilds_fill_reaches_the_new_generation():
    users = UserFactory.create_batch(30, points=10)
    leaderboard_sweep()
    done = []

    def write_once_the_first_chunk_is_read(loaded: int) -> None:
        if not done:
            # A write to a user the fill has read already: the live index takes it, and the
            # sweep may not clear its mark while the new generation is filling.
            done.append(points_change(user_id=users[0].pk, delta=5))
            leaderboard_sweep()
            with redis_unreachable():  # and one whose hand-over misses
                points_change(user_id=users[1].pk, delta=7)

    leaderboard_rebuild(chunk_size=10, on_chunk=write_once_the_first_chunk_is_read)

    top = APIClient().get("/api/users/?limit=2").json()["results"]
    assert [u["points"] for u in top] == [17, 15]
    assert APIClient().get("/readyz").json()["index"] == "ready"
    assert_index_matches_db()


def test_a_range_whose_loader_missed_redis_is_read_by_the_sweep_during_a_fill():
    UserFactory.create_batch(30, points=10)
    leaderboard_sweep()
    during = []

    def load_once_the_first_chunk_is_read(loaded: int) -> None:
        if not during:
            with redis_unreachable():
                users_load([NewUser(f"Bulk {i}", "1 Road", 30, 50) for i in range(20)])
            during.append(leaderboard_sweep())

    leaderboard_rebuild(chunk_size=10, on_chunk=load_once_the_first_chunk_is_read)

    # The sweep applied the load to the live generation, and kept the mark for the rebuild's
    # catch-up; once the rebuild is done, the next sweep clears it.
    assert during == [ranking.Swept(rows=20, cleared=0, backlog=20)]
    assert leaderboard_sweep() == ranking.Swept(rows=20, cleared=1, backlog=0)
    assert_index_matches_db()


def test_check_leaderboard_equal_prints_so(capsys):
    UserFactory.create_batch(5, scored=True)

    call_command("check_leaderboard", "--rows")

    out = capsys.readouterr().out
    assert "The ranking index equals the database." in out
    assert "differ row for row: 0" in out


def test_check_leaderboard_finds_a_lasting_difference_prints_it_and_rebuilds(capsys):
    users = UserFactory.create_batch(5, points=4, age=20)
    User.objects.update(updated_at=timezone.now() - timedelta(hours=1))
    leaderboard_rebuild()
    # A user's state lost behind the index's back (an eviction, a bad restore): the next
    # write to them lands as if they were new, and the aggregates count them twice.
    name = ranking.member(users[2].pk)
    get_redis_connection("default").hdel(live_key(f"s:{name[:-1]}"), name[-1])
    User.objects.filter(pk=users[2].pk).update(updated_at=timezone.now() - timedelta(hours=1))
    ranking.put([ranking.Entry(users[2].pk, 4, 1, 20)])

    call_command("check_leaderboard")

    out = capsys.readouterr().out
    assert "Differed: count: index 6, database 5" in out
    assert "Rebuilt the ranking index" in out
    assert_index_matches_db()


def test_a_fingerprint_difference_names_each_figure_that_differs():
    users = UserFactory.create_batch(3, points=4, age=30)
    User.objects.update(updated_at=timezone.now() - timedelta(hours=1))
    leaderboard_rebuild()
    # The board loses a user, and the fingerprint with it, behind the index's back.
    redis = get_redis_connection("default")
    redis.zrem(live_key("board"), ranking.member(users[0].pk))
    redis.hincrby(live_key("fp"), "n", -1)

    checked = leaderboard_check(pause=0)

    assert checked.rebuilt
    assert checked.differences == ["count: index 2, database 3"]
    assert_index_matches_db()


def test_the_check_does_not_rebuild_while_writes_go_on():
    users = UserFactory.create_batch(20, points=50)
    stop = threading.Event()

    def write() -> None:
        try:
            while not stop.is_set():
                for user in users:
                    points_change(user_id=user.pk, delta=1)
        finally:
            connection.close()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        time.sleep(0.3)
        checked = leaderboard_check(attempts=3, pause=0.2)
    finally:
        stop.set()
        writer.join()

    assert (checked.equal, checked.rebuilt) == (True, False)
    assert_index_matches_db()


def test_the_check_does_not_rebuild_for_users_added_between_its_two_reads(monkeypatch):
    UserFactory.create_batch(5, points=10)
    User.objects.update(updated_at=timezone.now() - timedelta(hours=1))
    leaderboard_rebuild()
    index_fingerprint = ranking.fingerprint

    def a_load_lands_first(**kwargs):
        # As a seed does: committed and in the index after the database's sums were read.
        users_load([NewUser("Late", "1 Road", 30, 50)])
        return index_fingerprint(**kwargs)

    monkeypatch.setattr(ranking, "fingerprint", a_load_lands_first)
    generation = get_redis_connection("default").get(ranking.health.keys().current)

    checked = leaderboard_check(pause=0)
    monkeypatch.undo()

    assert (checked.equal, checked.rebuilt, checked.settled) == (False, False, False)
    assert get_redis_connection("default").get(ranking.health.keys().current) == generation
    assert_index_matches_db()


def test_the_check_does_not_compare_while_more_users_change_than_it_may_leave_out(monkeypatch):
    UserFactory.create_batch(5, points=10)
    leaderboard_sweep()
    monkeypatch.setattr(upkeep, "CHECK_CHANGED_MAX", 4)
    # Out of the index's fingerprint too: the check must not look.
    get_redis_connection("default").hincrby(live_key("fp"), "n", -1)

    checked = leaderboard_check(pause=0)

    assert (checked.rebuilt, checked.settled) == (False, False)
    assert checked.differences == ["too many users changing to compare"]


def test_redis_emptied_heals_without_an_operator():
    UserFactory.create_batch(5, scored=True)
    get_redis_connection("default").flushdb()  # evicted, restarted empty, a new server

    checked = leaderboard_check()

    assert checked.rebuilt
    assert_index_matches_db()
