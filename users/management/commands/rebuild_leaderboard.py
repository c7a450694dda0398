import sys

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from users import ranking
from users.models import User
from users.upkeep import leaderboard_rebuild


class Command(BaseCommand):
    help = (
        "Rebuild the Redis ranking index from the database into a new generation and swap it "
        "in. Readers never see a half-built index; writes made meanwhile are kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--chunk-size", type=int, default=10_000)

    def handle(self, *args: object, chunk_size: int, **options: object) -> None:
        if chunk_size < 1:
            raise CommandError("--chunk-size must be at least 1.")
        # The bar counts every row read, the deleted ones included: an estimate is enough.
        with tqdm(
            total=User.objects.count(), unit="users", desc="Rebuilding", file=sys.stderr
        ) as bar:
            try:
                rebuilt = leaderboard_rebuild(chunk_size=chunk_size, on_chunk=bar.update)
            except ranking.RebuildInProgress:
                raise CommandError(
                    "Another rebuild is running. Wait for it to finish, or run this again in a "
                    f"few minutes (a stalled one expires after {ranking.LEASE_SECONDS}s)."
                ) from None
            except ranking.RedisUnavailable as exc:
                raise CommandError(
                    f"Redis did not answer ({exc}). Check REDIS_URL, or start Redis, then run "
                    "this again."
                ) from None
        self.stdout.write(self.style.SUCCESS(f"The ranking index holds {rebuilt.count} users."))
