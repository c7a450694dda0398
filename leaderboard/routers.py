"""A database router for checking MongoDB mode with no server (`make check-mongo`)."""

from typing import Any


class NoServerRouter:
    """Lets `makemigrations --check` run with no MongoDB server: it checks the applied
    history only on databases that migrations are allowed on, and here there are none."""

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return False
