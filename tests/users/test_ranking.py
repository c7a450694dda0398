"""The Redis ranking index: equal to the database under concurrency, rebuilds and outages."""

import contextlib
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_redis import get_redis_connection
from redis import Redis
from rest_framework.test import APIClient

from accounts.services import token_issue
from tests.conftest import assert_index_matches_db, board_in_db, live_key
from users import ranking
from users.factories import UserFactory
from users.models import User
from users.services import (
    PointsOutOfRange,
    points_change,
    user_create,
    user_delete,
    user_restore,
    user_update,
)
from users.upkeep import leaderboard_rebuild, leaderboard_sweep

pytestmark = pytest.mark.django_db(transaction=True)


def in_threads(count: int, work) -> list:
    """Run ``work(i)`` in ``count`` threads released at the same moment."""
    start = threading.Barrier(count)

    def run(i: int):
        start.wait()
        try:
            return work(i)
        finally:
            connection.close()

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def corrupt_the_board(members: dict[str, int]) -> None:
    """Add members to the live board behind the index's back (and nothing else)."""
    get_redis_connection("default").zadd(live_key("board"), members)


@pytest.mark.usefixtures("index_trusted_throughout")
def test_sixteen_threads_on_one_user_lose_no_update():
    user = UserFactory(points=1000)
    key = token_issue(username="load")

    def work(i: int) -> list[int]:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        action = "increment" if i % 2 == 0 else "decrement"
        return [
            client.post(f"/api/users/{user.pk}/{action}/", {"by": i + 1}, format="json").status_code
            for _ in range(10)
        ]

    statuses = in_threads(16, work)

    assert {s for thread in statuses for s in thread} == {200}
    expected = 1000 + 10 * sum((i + 1) * (1 if i % 2 == 0 else -1) for i in range(16))
    assert User.objects.get(pk=user.pk).points == expected
    assert_index_matches_db()


@pytest.mark.usefixtures("index_trusted_throughout")
def test_sixteen_threads_times_fifty_increments_on_one_user_give_the_exact_sum():
    # On MongoDB each of these is a transaction that a concurrent one aborts with a
    # WriteConflict; the service runs it again (leaderboard/transactions.py), and no client
    # sees an error.
    user = UserFactory(points=0)
    key = token_issue(username="load")

    def work(i: int) -> list[int]:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return [
            client.post(f"/api/users/{user.pk}/increment/", format="json").status_code
            for _ in range(50)
        ]

    statuses = in_threads(16, work)

    assert {s for thread in statuses for s in thread} == {200}
    assert User.objects.get(pk=user.pk).points == 16 * 50
    assert_index_matches_db()


def test_concurrent_decrements_never_pass_zero():
    user = UserFactory(points=50)

    def work(i: int) -> int:
        taken = 0
        for _ in range(10):
            try:
                points_change(user_id=user.pk, delta=-1)
                taken += 1
            except PointsOutOfRange:
                pass
        return taken

    taken = sum(in_threads(16, work))

    assert taken == 50
    assert User.objects.get(pk=user.pk).points == 0
    assert_index_matches_db()


def test_the_index_equals_the_database_after_concurrent_changes_to_many_users():
    users = UserFactory.create_batch(20, points=100)

    def work(i: int) -> None:
        for step in range(25):
            target = users[(i * 7 + step) % 19]  # users[19] is deleted midway
            points_change(user_id=target.pk, delta=(step % 5) - 2 or 3)
            if i == 3 and step == 12:
                user_delete(user_id=users[-1].pk)

    in_threads(16, work)

    assert_index_matches_db()
    assert len(board_in_db()) == 19


def test_a_late_write_never_rolls_the_index_back():
    user = UserFactory()
    newer = ranking.Entry(user.pk, 7, version=3, age=30)
    older = ranking.Entry(user.pk, 2, version=2, age=30)

    ranking.put([newer])
    ranking.put([older])  # arrives late: ignored
    ranking.put([newer])  # arrives twice: no double count

    assert ranking.snapshot() == [(user.pk, 7)]


def test_a_late_write_cannot_bring_a_deleted_user_back():
    user = UserFactory()
    ranking.put([ranking.Entry(user.pk, 0, version=5, age=30, deleted=True)])
    ranking.put([ranking.Entry(user.pk, 3, version=4, age=30)])

    assert ranking.snapshot() == []


def test_rebuild_replaces_a_wrong_index_with_the_database():
    users = [UserFactory(points=p) for p in [4, 9, 4, 0]]
    user_delete(user_id=users[3].pk)
    corrupt_the_board({ranking.member(99_999): -50})

    assert leaderboard_rebuild(chunk_size=2).count == 3

    assert ranking.snapshot() == [(users[1].pk, 9), (users[0].pk, 4), (users[2].pk, 4)]


def test_readers_keep_the_old_index_until_the_swap():
    UserFactory.create_batch(30, points=5)
    # Mark the old index so that its answers can be told apart: it holds one user too many.
    corrupt_the_board({ranking.member(99_999): -1})
    seen: list[int] = []

    def read_between_chunks(loaded: int) -> None:
        seen.append(APIClient().get("/api/users/?limit=1").json()["count"])

    leaderboard_rebuild(chunk_size=7, on_chunk=read_between_chunks)

    assert seen == [31] * 5  # never a partly filled index
    assert APIClient().get("/api/users/?limit=1").json()["count"] == 30
    assert_index_matches_db()


@pytest.mark.usefixtures("index_trusted_throughout")
def test_concurrent_readers_during_a_rebuild_see_the_old_or_the_new_index_only():
    UserFactory.create_batch(2_000, points=5)
    corrupt_the_board({ranking.member(99_999): -1})
    done = threading.Event()
    seen: set[int] = set()

    def read_until_done(i: int) -> None:
        client = APIClient()
        try:
            while not done.is_set():
                seen.add(client.get("/api/users/?limit=1").json()["count"])
        finally:
            connection.close()

    with ThreadPoolExecutor(4) as pool:
        readers = [pool.submit(read_until_done, i) for i in range(4)]
        leaderboard_rebuild(chunk_size=100)
        time.sleep(0.2)
        done.set()
        for reader in readers:
            reader.result()

    assert seen <= {2_001, 2_000}  # the old index (one extra) or the new one, never partial
    assert_index_matches_db()


def test_without_an_index_readers_use_the_database_during_a_rebuild():
    UserFactory.create_batch(30, points=5)
    get_redis_connection("default").flushdb()
    seen: list[int] = []

    def read_between_chunks(loaded: int) -> None:
        seen.append(len(APIClient().get("/api/users/?limit=100").json()["results"]))

    leaderboard_rebuild(chunk_size=7, on_chunk=read_between_chunks)

    assert seen == [30] * 5
    assert_index_matches_db()


def test_changes_made_during_a_rebuild_survive_the_swap():
    users = UserFactory.create_batch(40, points=10)
    changes = iter(
        [
            (users[0], +5),  # already loaded into the new index
            (users[39], +7),  # not loaded yet
            (users[20], -10),
            (users[0], +1),
        ]
    )

    def change_between_chunks(loaded: int) -> None:
        user, delta = next(changes, (None, 0))
        if user:
            points_change(user_id=user.pk, delta=delta)

    leaderboard_rebuild(chunk_size=10, on_chunk=change_between_chunks)

    assert User.objects.get(pk=users[0].pk).points == 16
    assert_index_matches_db()


def test_one_rebuild_at_a_time():
    UserFactory.create_batch(3)

    def rebuild_inside(loaded: int) -> None:
        with pytest.raises(ranking.RebuildInProgress):
            leaderboard_rebuild()

    leaderboard_rebuild(chunk_size=1, on_chunk=rebuild_inside)
    assert_index_matches_db()


def test_the_rebuild_command_reports_the_count(capsys):
    UserFactory.create_batch(3, scored=True)
    get_redis_connection("default").flushdb()

    call_command("rebuild_leaderboard")

    assert "holds 3 users" in capsys.readouterr().out
    assert_index_matches_db()


def test_aggregates_stay_exact_through_concurrent_changes_and_a_racing_rebuild():
    users = UserFactory.create_batch(60, points=5)
    deleted = users[50:]
    for user in deleted:
        user_delete(user_id=user.pk)

    def work(i: int) -> None:
        draw = random.Random(i)
        for step in range(30):
            target = draw.choice(users[:50])
            match step % 6:
                case 0:
                    user_create(name=f"new {i}-{step}", age=draw.randint(1, 99))
                case 1:
                    with contextlib.suppress(User.DoesNotExist):
                        user_delete(user_id=target.pk)
                case 2:
                    with contextlib.suppress(User.DoesNotExist):
                        user_restore(user_id=draw.choice(deleted + users[:50]).pk)
                case 3:
                    with contextlib.suppress(User.DoesNotExist):
                        user_update(user_id=target.pk, age=draw.randint(1, 99))
                case _:
                    with contextlib.suppress(User.DoesNotExist, PointsOutOfRange):
                        points_change(user_id=target.pk, delta=draw.choice([-3, -1, 1, 2, 7]))

    with ThreadPoolExecutor(1) as rebuilder:
        racing = rebuilder.submit(lambda: (leaderboard_rebuild(chunk_size=7), connection.close()))
        in_threads(8, work)
        racing.result()

    assert_index_matches_db()  # board, groups (count and age sum per score), fingerprint


def test_an_age_edit_moves_the_groups_average():
    ada = UserFactory(points=3, age=20)
    UserFactory(points=3, age=40)

    user_update(user_id=ada.pk, age=60)

    [group] = APIClient().get("/api/users/grouped-by-score/").json()["results"]
    assert (group["count"], group["average_age"]) == (2, 50.0)
    assert_index_matches_db()


def test_a_rebuild_frees_the_generation_it_replaces():
    UserFactory.create_batch(300, scored=True)
    redis = get_redis_connection("default")
    keys = ranking.health.keys()
    before = redis.get(keys.current).decode()

    leaderboard_rebuild(chunk_size=50)

    assert redis.get(keys.current).decode() != before
    assert not list(redis.scan_iter(match=keys.generation(before) + "*"))
    assert redis.smembers(keys.generations) == {redis.get(keys.current)}


def test_tombstones_are_pruned_once_no_late_write_can_arrive(settings):
    settings.LEADERBOARD_TOMBSTONE_SECONDS = 0.2
    gone = UserFactory(points=4)
    user_delete(user_id=gone.pk)
    redis = get_redis_connection("default")
    tombstones = live_key("tombstones")
    assert redis.zcard(tombstones) == 1

    time.sleep(0.3)
    leaderboard_sweep()

    assert redis.zcard(tombstones) == 0
    state = redis.hgetall(live_key(f"s:{ranking.member(gone.pk)[:-1]}"))
    assert ranking.member(gone.pk)[-1:].encode() not in state
    assert_index_matches_db()


def test_a_rebuild_keeps_only_recent_tombstones(settings):
    old, recent = UserFactory(), UserFactory()
    user_delete(user_id=old.pk)
    # Deleted an hour ago, and confirmed by the index since.
    User.objects.filter(pk=old.pk).update(
        updated_at=timezone.now() - timedelta(hours=1), index_pending=False
    )
    user_delete(user_id=recent.pk)

    leaderboard_rebuild()

    kept = get_redis_connection("default").zrange(live_key("tombstones"), 0, -1)
    assert kept == [ranking.member(recent.pk).encode()]


def test_members_keep_creation_order_across_the_encodings_widths():
    ids = [1, 63, 64, 4095, 4096, 10**6, 64**6 - 1, 64**6, 2**62]

    members = [ranking.member(pk) for pk in ids]

    assert sorted(members) == members  # the board breaks ties in this order
    assert [ranking.pk_of(m) for m in members] == ids


def test_scripts_are_loaded_again_into_an_emptied_script_cache():
    """After a restart, or on a replica that Sentinel promoted, Redis knows no script."""
    ada = UserFactory(points=5)
    UserFactory(points=9)
    leaderboard_rebuild()
    leaderboard_sweep()
    get_redis_connection("default").script_flush()

    answer = points_change(user_id=ada.pk, delta=7)  # the index write, then a read of it
    assert (answer.points, answer.rank) == (12, 1)
    get_redis_connection("default").script_flush()
    assert APIClient().get(f"/api/users/{answer.id}/").json()["rank"] == 1
    assert_index_matches_db()


def test_a_read_after_redis_restarted_reaches_it_again_at_once(
    disposable_redis, index_trusted_throughout
):
    """A thread keeps its connection for the scripts a request runs; when Redis has closed it
    meanwhile, the read opens a new one, rather than going to the database."""
    ada = UserFactory(points=5)
    leaderboard_rebuild()
    assert ranking.placement(ada.pk).points == 5

    disposable_redis.stop()
    disposable_redis.start()  # with the index it wrote to disk

    placed = ranking.placement(ada.pk)
    assert isinstance(placed, ranking.Placed)
    assert (placed.points, placed.rank) == (5, 1)


def test_a_thread_that_ends_gives_its_connection_back():
    """A server that starts a thread per request (runserver, a test's live server) must not
    leave a Redis connection open for each request it served."""
    ada = UserFactory(points=5)
    redis = get_redis_connection("default")

    def read_in_a_thread_of_its_own() -> None:
        with ThreadPoolExecutor(max_workers=1) as thread:
            placed = thread.submit(ranking.placement, ada.pk).result()
        assert isinstance(placed, ranking.Placed)

    read_in_a_thread_of_its_own()  # opens the connection the next ones may take again
    before = redis.info("clients")["connected_clients"]
    for _ in range(20):
        read_in_a_thread_of_its_own()

    assert redis.info("clients")["connected_clients"] <= before + 1


def test_a_read_cut_short_leaves_no_answer_behind_for_the_next_one(disposable_redis, settings):
    """A script whose answer did not come in time (Redis paused) answers later, on the kept
    connection: the next read must not take it for its own."""
    options = settings.CACHES["default"]["OPTIONS"]
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "OPTIONS": {**options, "SOCKET_TIMEOUT": 0.2}}
    }
    # Set here, after the shorter timeout, not by index_trusted_throughout: with that fixture,
    # which runs before this body, the paused read below did not time out.
    settings.LEADERBOARD_INDEX_TRUST_SECONDS = 600
    settings.LEADERBOARD_REDIS_RETRY_SECONDS = 0
    ada, bob = UserFactory(points=5), UserFactory(points=9)
    leaderboard_rebuild()
    assert ranking.placement(ada.pk).points == 5

    get_redis_connection("default").execute_command("CLIENT", "PAUSE", 1000, "ALL")
    assert ranking.placement(ada.pk) is None  # timed out: the caller asks the database
    Redis.from_url(disposable_redis.url).ping()  # answers once the pause is over

    placed = ranking.placement(bob.pk)
    assert isinstance(placed, ranking.Placed)
    assert (placed.points, placed.rank) == (9, 1)


@pytest.mark.skipif(
    connection.vendor == "mongodb", reason="the MongoDB backend logs no findAndModify"
)
def test_a_point_change_is_one_database_statement_and_one_script_call():
    user = UserFactory(points=5)
    UserFactory(points=9)
    redis = get_redis_connection("default")
    before = script_calls(redis)

    with CaptureQueriesContext(connection) as statements:
        answer = points_change(user_id=user.pk, delta=2)

    assert len(statements) == 1
    assert script_calls(redis) - before == 1  # the index write, which answers the rank too
    assert (answer.points, answer.rank) == (7, 2)
    assert_index_matches_db()


def script_calls(redis) -> int:
    stats = redis.info("commandstats")
    return sum(stats.get(f"cmdstat_{name}", {}).get("calls", 0) for name in ("eval", "evalsha"))
