from django.core.management.base import BaseCommand, CommandParser

from accounts.services import token_issue


class Command(BaseCommand):
    help = "Print a new API write token for USERNAME, creating that account if needed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: object, username: str, **options: object) -> None:
        key = token_issue(username=username)
        self.stdout.write(key)
        self.stderr.write(
            f"Use it as the header 'Authorization: Token {key}'. It is not shown again."
        )
