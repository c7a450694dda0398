import random
import sys
from collections.abc import Iterator

import factory.random
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from tqdm import tqdm

from users import ranking
from users.factories import UserFactory
from users.models import MAX_POINTS, User
from users.services import users_bulk_create
from users.upkeep import leaderboard_rebuild

# Faker spends about 130 µs on a name and an address, so a million users straight from the
# factory would take minutes. The factory builds this many users once: the first seeded users
# take them in turn (so no two share a name and an address), and the rest take a name and an
# address from two independent draws among them, which gives POOL_SIZE² combinations at a
# memory cost that does not grow with --count.
POOL_SIZE = 10_000
# Among this many users, one is a "star" with points in the top half of the range.
USERS_PER_STAR = 100_000


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
    mean = max(1.0, max_points / 10)
    for i in range(count):
        if i in star_points:
            yield star_points[i]
        else:
            yield min(body_top, int(draw.expovariate(1 / mean)))


class Command(BaseCommand):
    help = (
        "Create N users with Faker names and addresses, ages 18-80, and long-tailed points "
        "(most low, few high, one leader)."
    )

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
        points = long_tailed_points(draw, count, max_points)

        def person(i: int) -> User:
            if i < len(pool):
                name, address, age = pool[i].name, pool[i].address, pool[i].age
            else:
                name, address = draw.choice(pool).name, draw.choice(pool).address
                age = draw.choice(pool).age
            return User(name=name, address=address, age=age, points=next(points))

        with tqdm(total=count, unit="users", desc="Seeding", file=sys.stderr) as bar:
            for start in range(0, count, batch_size):
                size = min(batch_size, count - start)
                users_bulk_create([person(start + i) for i in range(size)], batch_size=size)
                bar.update(size)

        self._refresh_planner_statistics()
        if ranking.status()["index"] == "missing":  # nothing to keep in step: build it whole
            leaderboard_rebuild()
        self.stdout.write(self.style.SUCCESS(f"Created {count:,} users."))

    def _refresh_planner_statistics(self) -> None:
        """After a bulk load the planner's statistics describe an empty table; PostgreSQL
        then plans the board's queries badly until autovacuum catches up."""
        if connection.vendor in {"postgresql", "sqlite"}:
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {User._meta.db_table}")
