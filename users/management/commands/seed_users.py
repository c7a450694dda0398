import random
import sys

import factory.random
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from tqdm import tqdm

from users import ranking
from users.factories import UserFactory
from users.models import MAX_POINTS, User
from users.services import leaderboard_rebuild, users_bulk_create

# Faker spends about 130 µs on a name and an address, so a million users straight from the
# factory would take minutes. The factory builds this many users once; every seeded user
# then takes its name and its address from two independent draws among them, which gives
# POOL_SIZE² combinations at memory cost that does not grow with --count.
POOL_SIZE = 10_000


class Command(BaseCommand):
    help = "Create N users with Faker names and addresses, random ages and random points."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, required=True, help="How many users.")
        parser.add_argument(
            "--max-points", type=int, default=100, help="Points are drawn from 0..P (100)."
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
        names = [u.name for u in pool]
        addresses = [u.address for u in pool]
        ages = [u.age for u in pool]

        with tqdm(total=count, unit="users", desc="Seeding", file=sys.stderr) as bar:
            for start in range(0, count, batch_size):
                size = min(batch_size, count - start)
                batch = [
                    User(
                        name=draw.choice(names),
                        address=draw.choice(addresses),
                        age=draw.choice(ages),
                        points=draw.randint(0, max_points),
                    )
                    for _ in range(size)
                ]
                users_bulk_create(batch, batch_size=batch_size)
                bar.update(size)

        self._refresh_planner_statistics()
        if ranking.status()["index"] != "ready":  # nothing to keep in step: build it whole
            leaderboard_rebuild()
        self.stdout.write(self.style.SUCCESS(f"Created {count} users."))

    def _refresh_planner_statistics(self) -> None:
        """After a bulk load the planner's statistics describe an empty table; PostgreSQL
        then plans the board's queries badly until autovacuum catches up."""
        if connection.vendor in {"postgresql", "sqlite"}:
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {User._meta.db_table}")
