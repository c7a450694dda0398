from django.core.management.base import BaseCommand, CommandError

from users import ranking
from users.upkeep import leaderboard_check


class Command(BaseCommand):
    help = (
        "Repair the ranking index from the rows changed since it was last known complete, "
        "compare its fingerprint (live count, sums of points, versions and ages) with the "
        "database's, and rebuild it if they still differ. Prints what differed."
    )

    def handle(self, *args: object, **options: object) -> None:
        try:
            checked = leaderboard_check()
        except ranking.RepairBusy:
            raise CommandError(
                "Another process is repairing the index. Run this again in a minute."
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
            return
        for difference in checked.differences:
            self.stdout.write(f"Differed: {difference}")
        self.stdout.write(self.style.WARNING("Rebuilt the ranking index from the database."))
