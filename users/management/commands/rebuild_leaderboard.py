import sys

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from users import ranking
from users.models import User
from users.services import leaderboard_rebuild


class Command(BaseCommand):
    help = (
        "Rebuild the Redis ranking index from the database under a temporary key and swap it "
        "in atomically. Readers never see a half-built index; writes made meanwhile are kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--chunk-size", type=int, default=10_000)

    def handle(self, *args: object, chunk_size: int, **options: object) -> None:
        with tqdm(
            total=User.objects.count(), unit="users", desc="Rebuilding", file=sys.stderr
        ) as bar:
            try:
                live = leaderboard_rebuild(chunk_size=chunk_size, on_chunk=bar.update)
            except ranking.RebuildInProgress:
                raise CommandError(
                    "Another rebuild is running. Wait for it to finish, or run this again in a "
                    f"few minutes (a stalled one expires after {ranking.BUILD_TTL_SECONDS}s)."
                ) from None
            except ranking.RedisUnavailable as exc:
                raise CommandError(
                    f"Redis did not answer ({exc}). Check REDIS_URL, or start Redis, then run "
                    "this again."
                ) from None
        self.stdout.write(self.style.SUCCESS(f"The ranking index holds {live} users."))
