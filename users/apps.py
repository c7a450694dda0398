from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "users"
    verbose_name = "Leaderboard"

    def ready(self) -> None:
        # Connects the receiver that queues a sweep or a rebuild when a read asks for one.
        from . import tasks  # noqa: F401
