from django.core.management.base import BaseCommand, CommandError, CommandParser

from users import ranking
from users.upkeep import leaderboard_check, leaderboard_differences


class Command(BaseCommand):
    help = (
        "Sweep the ranking index (apply every row the database marks as pending), "
        "compare its fingerprint (live count, sums of points, versions and ages) with the "
        "database's, and rebuild it if they still differ. Prints what differed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--rows",
            action="store_true",
            help="Also compare every user, row for row (O(N): for checks, not for beat), and "
            "print how many differ.",
        )

    def handle(self, *args: object, rows: bool, **options: object) -> None:
        try:
            checked = leaderboard_check()
        except ranking.SweepBusy:
            raise CommandError(
                "Another process is sweeping the index. Run this again in a minute."
            ) from None
        except ranking.RebuildInProgress:
            raise CommandError(
                "A rebuild is running. Run this again when it has finished."
            ) from None
        except ranking.RedisUnavailable as exc:
            raise CommandError(
                f"Redis did not answer ({exc}). Check REDIS_URL, or start Redis, then run this "
                "again."
            ) from None
        if checked.equal:
            self.stdout.write(self.style.SUCCESS("The ranking index equals the database."))
        elif not checked.settled:
            self.stdout.write(
                self.style.WARNING(
                    "Users kept changing while the check compared, so it proved nothing. Run "
                    "this again in a quieter moment, or add --rows."
                )
            )
        else:
            for difference in checked.differences:
                self.stdout.write(f"Differed: {difference}")
            self.stdout.write(self.style.WARNING("Rebuilt the ranking index from the database."))
        if rows:
            differing = leaderboard_differences()
            self.stdout.write(f"Users that differ row for row: {len(differing)}")
            if differing:
                raise CommandError(f"Some of them: {sorted(differing, key=str)[:10]}")
