"""Django's ``flush``, which also retires the ranking index of the database it empties: the
emptied database gets a new identity at its first use, and without this, processes still
holding the old one would serve the old board until the next sweep noticed."""

from typing import Any

from django.core.management.commands.flush import Command as FlushCommand
from django.db import DatabaseError

from users import ranking
from users.models import IndexIdentity


class Command(FlushCommand):
    def handle(self, **options: Any) -> None:
        try:
            tokens = list(
                IndexIdentity.objects.using(options["database"]).values_list("token", flat=True)
            )
        except DatabaseError:  # not migrated yet: there is no index to retire
            tokens = []
        super().handle(**options)
        for token in tokens:
            ranking.retire(token)
