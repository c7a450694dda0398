from django.core.management.base import BaseCommand
from django.utils import timezone

from winners.services import winner_declare


class Command(BaseCommand):
    help = "Declare the winner of the current 5-minute slot now, and print the decision."

    def handle(self, *args: object, **options: object) -> None:
        self.stdout.write(str(winner_declare(at=timezone.now())))
