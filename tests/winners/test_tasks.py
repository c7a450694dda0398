"""The job through a real Celery worker and broker, the command, and the beat schedule."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from leaderboard.celery import app
from leaderboard.transactions import atomic
from tests.conftest import ROOT, subprocess_env, wait_until_well_inside_a_slot
from users.factories import UserFactory
from winners.models import Winner
from winners.services import slot_start
from winners.tasks import declare_winner

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.celery]


def test_the_worker_declares_a_unique_top(celery_worker):
    top = UserFactory(points=9)
    UserFactory(points=4)

    message = declare_winner.delay().get(timeout=30)

    assert f'"{top.name}" (user {top.pk}) wins with 9 points' in message
    winner = Winner.objects.get()
    assert (winner.user_id, winner.points) == (top.pk, 9)
    assert abs((datetime.now(UTC) - winner.won_at).total_seconds()) < 30


def test_three_runs_in_one_slot_store_one_row(celery_worker):
    UserFactory(points=9)
    at = datetime.now(UTC).isoformat()

    messages = [declare_winner.delay(at=at).get(timeout=30) for _ in range(3)]

    assert ["already won by" in m for m in messages] == [False, True, True]
    assert Winner.objects.count() == 1


def test_a_tick_sent_as_beat_sends_it_is_stamped_with_its_slot(celery_worker):
    top = UserFactory(points=9)
    wait_until_well_inside_a_slot()
    sent = datetime.now(UTC)

    message = declare_winner.apply_async().get(timeout=30)  # no arguments, like beat

    assert message.startswith(f"Slot {slot_start(sent):%Y-%m-%d %H:%M} UTC: ")
    assert list(Winner.objects.values_list("user", "slot")) == [(top.pk, slot_start(sent))]


def test_a_tick_delivered_after_its_slot_is_over_is_dropped(celery_worker):
    UserFactory(points=9)
    tick = datetime.now(UTC) - timedelta(minutes=6)

    message = declare_winner.apply_async(kwargs={"at": tick.isoformat()}).get(timeout=30)

    assert message.endswith("after its slot was over; dropped.")
    assert not Winner.objects.exists()


def test_the_worker_stores_nothing_on_a_tie_or_an_empty_board(celery_worker):
    assert "nobody is on the board" in declare_winner.delay().get(timeout=30)
    UserFactory(points=3)
    UserFactory(points=3)
    assert "a tie" in declare_winner.delay().get(timeout=30)
    assert not Winner.objects.exists()


def test_two_processes_at_once_store_exactly_one_row():
    top = UserFactory(points=9)
    wait_until_well_inside_a_slot()
    runs = [
        subprocess.Popen(
            [sys.executable, "manage.py", "declare_winner"],
            cwd=ROOT,
            env=subprocess_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=120) for run in runs]

    assert [run.returncode for run in runs] == [0, 0], outputs
    said = sorted(out.strip().split(": ", 1)[1] for out, _ in outputs)
    assert said == [
        f'"{top.name}" (user {top.pk}) wins with 9 points.',
        f'already won by "{top.name}" (user {top.pk}) with 9 points.',
    ]
    assert all(out.count("\n") == 1 for out, _ in outputs)  # each run prints once
    assert Winner.objects.count() == 1


def test_the_command_prints_its_decision_once(capsys):
    top = UserFactory(points=2)
    wait_until_well_inside_a_slot()
    slot = slot_start(datetime.now(UTC))

    call_command("declare_winner")

    assert capsys.readouterr().out == (
        f'Slot {slot:%Y-%m-%d %H:%M} UTC: "{top.name}" (user {top.pk}) wins with 2 points.\n'
    )


def test_the_jobs_are_scheduled_after_a_fresh_migrate_and_after_a_flush(tmp_path):
    env = {**subprocess_env(), "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}"}
    run = {"cwd": ROOT, "env": env, "capture_output": True, "text": True, "check": True}
    listing = [
        sys.executable,
        "manage.py",
        "shell",
        "--verbosity",
        "0",
        "-c",
        "from django_celery_beat.models import PeriodicTask as P;"
        "[print(t.task, t.enabled, t.interval and t.interval.every,"
        " t.crontab and t.crontab.minute, t.crontab and t.crontab.timezone, t.expire_seconds)"
        " for t in P.objects.order_by('task')]",
    ]
    scheduled = [
        "accounts.tasks.purge_idempotency_keys True None 17 UTC 3600",
        "users.tasks.check_leaderboard True None 2-59/5 UTC 300",
        "users.tasks.sweep_leaderboard True 1 None None 2",
        # At the slot boundaries (12:00, 12:05, ... UTC); a tick expires with its slot.
        "winners.tasks.declare_winner True None */5 UTC 300",
    ]

    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], **run)
    assert subprocess.run(listing, **run).stdout.splitlines() == scheduled

    # flush empties every table, and makes the schedule again: winners keep being declared.
    subprocess.run([sys.executable, "manage.py", "flush", "--noinput"], **run)
    assert subprocess.run(listing, **run).stdout.splitlines() == scheduled


def test_a_worker_killed_mid_task_neither_loses_nor_duplicates_the_slot():
    top = UserFactory(points=9)
    wait_until_well_inside_a_slot()
    at = datetime.now(UTC)
    queue = f"killed-{os.getpid()}"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "leaderboard",
            "worker",
            "--pool",
            "prefork",
            "--concurrency",
            "1",
            "--queues",
            queue,
            "--hostname",
            f"{queue}@%h",
            "--loglevel",
            "WARNING",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=ROOT,
        env=subprocess_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with contextlib.suppress(_RollBack), atomic():
            # Hold the slot in an open transaction: the task's INSERT waits on it (on MongoDB,
            # it is aborted by a WriteConflict, and retried).
            Winner.objects.create(user=top, points=0, won_at=at, slot=slot_start(at))
            declare_winner.apply_async(queue=queue)  # like beat: stamped when sent
            killed = running_task_pid(queue)
            os.kill(killed, signal.SIGKILL)  # the pool process, mid-task
            running_task_pid(queue, other_than=killed)  # handed back, and running again
            raise _RollBack  # free the slot

        deadline = time.monotonic() + 60
        while not Winner.objects.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1)  # a duplicate would have landed by now
        # Handed out again, it still declares the slot it was sent in.
        assert list(Winner.objects.values_list("user", "points", "slot")) == [
            (top.pk, 9, slot_start(at))
        ]
    finally:
        worker.terminate()
        worker.wait(timeout=30)


class _RollBack(Exception):
    pass


def running_task_pid(queue: str, other_than: int | None = None, timeout: float = 60) -> int:
    """The pid of the pool process running the winner task on the worker for ``queue``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        active = (
            app.control.inspect(destination=[f"{queue}@{socket.gethostname()}"], timeout=1).active()
            or {}
        )
        for tasks in active.values():
            for task in tasks:
                pid = int(task["worker_pid"])
                if task["name"] == "winners.tasks.declare_winner" and pid != other_than:
                    return pid
        time.sleep(0.2)
    raise AssertionError("no pool process ran the winner task (again)")
