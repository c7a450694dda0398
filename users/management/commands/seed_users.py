import random
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import islice

import factory.random
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, connections
from tqdm import tqdm

from leaderboard.processes import Pace, run_below_others
from users import ranking
from users.bulk import NewUser, users_load
from users.factories import UserFactory
from users.models import MAX_POINTS, User
from users.upkeep import leaderboard_rebuild

# The factory spends most of a millisecond on a user's Faker name and address, so a million
# users straight from it would take a quarter of an hour. It builds this many users once: the
# first seeded users take them in turn (so no two share a name and an address), and the rest
# take a name, an address and an age from independent draws among them, which gives
# POOL_SIZE² name and address pairs at a memory cost that does not grow with --count.
POOL_SIZE = 5_000
# Among this many users, one is a "star" with points in the top half of the range.
USERS_PER_STAR = 100_000
# A seed from the shell runs at this CPU priority (nice), at least: beside a loaded service on
# the same machine it then slows itself rather than the service. Alone, it runs as fast.
NICENESS = 10


def long_tailed_points(draw: random.Random, count: int, max_points: int) -> Iterator[int]:
    """Points for ``count`` users: most low, few high, and a unique leader.

    Everyone but a few stars draws from an exponential distribution (mean a tenth of the
    range) capped at half the range; the stars, about one per ``USERS_PER_STAR`` and at least
    one, take distinct values from the top half, so the best of them leads alone and the
    winner job has a winner.
    """
    body_top = max_points // 2
    top_half = range(body_top + 1, max_points + 1)
    stars = min(len(top_half), count, 1 + count // USERS_PER_STAR)
    star_points = dict(
        zip(sorted(draw.sample(range(count), stars)), draw.sample(top_half, stars), strict=True)
    )
    rate, draw_one = 1 / max(1.0, max_points / 10), draw.expovariate
    for first in range(0, count, 10_000):
        size = min(10_000, count - first)
        batch = [min(body_top, int(draw_one(rate))) for _ in range(size)]
        for i, points in star_points.items():
            if first <= i < first + size:
                batch[i - first] = points
        yield from batch


class Command(BaseCommand):
    help = (
        "Create N users with Faker names and addresses, ages 18-80, and long-tailed points "
        "(most low, few high, one leader)."
    )

    def run_from_argv(self, argv: list[str]) -> None:
        # Only from the shell: called in-process (tests, other commands), the caller's
        # priority is its own business.
        run_below_others(lambda: super(Command, self).run_from_argv(argv), niceness=NICENESS)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, required=True, help="How many users.")
        parser.add_argument(
            "--max-points", type=int, default=100, help="The most points anyone gets (100)."
        )
        parser.add_argument("--seed", type=int, help="The same seed gives the same users.")
        parser.add_argument("--batch-size", type=int, default=5_000, help="Rows per INSERT.")

    def handle(
        self,
        *args: object,
        count: int,
        max_points: int,
        seed: int | None,
        batch_size: int,
        **options: object,
    ) -> None:
        if count < 1:
            raise CommandError("--count must be at least 1.")
        if not 0 <= max_points <= MAX_POINTS:
            raise CommandError(f"--max-points must be between 0 and {MAX_POINTS}.")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")

        if seed is not None:
            factory.random.reseed_random(seed)  # Faker and factory_boy
        draw = random.Random(seed)  # noqa: S311 - sample data, not secrets
        pool = UserFactory.build_batch(min(count, POOL_SIZE))
        names, addresses, ages = (
            [getattr(u, field) for u in pool] for field in NewUser._fields[:3]
        )
        points = long_tailed_points(draw, count, max_points)

        def people(first: int, size: int) -> list[NewUser]:
            """Users ``first`` to ``first + size``: the pool's own pairs, then draws."""
            own = range(first, min(first + size, len(pool)))
            drawn = size - len(own)
            return list(
                map(
                    NewUser,
                    [names[i] for i in own] + draw.choices(names, k=drawn),
                    [addresses[i] for i in own] + draw.choices(addresses, k=drawn),
                    [ages[i] for i in own] + draw.choices(ages, k=drawn),
                    islice(points, size),
                )
            )

        # The index takes each batch on a thread while the next is written to the database.
        pace = Pace()
        with (
            tqdm(total=count, unit="users", desc="Seeding", file=sys.stderr) as bar,
            ThreadPoolExecutor(1) as indexer,
        ):
            indexing: list[Future[object]] = []
            for first in pace.over(range(0, count, batch_size)):
                size = min(batch_size, count - first)
                users_load(
                    people(first, size), run=lambda job: indexing.append(indexer.submit(job))
                )
                while len(indexing) > 1:
                    indexing.pop(0).result()
                if pace.rested:
                    bar.set_postfix_str(f"giving way to a busy machine: {pace.rested:,.1f} s")
                bar.update(size)
            for done in indexing:
                done.result()
            indexer.submit(connections.close_all).result()  # the thread's own, for the ranges

        self._refresh_planner_statistics()
        if ranking.status()["index"] == "missing":  # nothing to keep in step: build it whole
            leaderboard_rebuild()
        self.stdout.write(self.style.SUCCESS(f"Created {count:,} users."))

    def _refresh_planner_statistics(self) -> None:
        """After a bulk load the planner's statistics describe an empty table; PostgreSQL
        then plans the board's and the search's queries badly until autovacuum catches up."""
        if connection.vendor in {"postgresql", "sqlite"}:
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {User._meta.db_table}")
                if connection.vendor == "postgresql":
                    cursor.execute("ANALYZE users_name_search")  # migration users 0009
