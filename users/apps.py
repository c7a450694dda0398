from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "users"
    verbose_name = "Leaderboard"

    def ready(self) -> None:
        # Connects the receiver that queues a sweep or a rebuild when a read asks for one, and
        # registers MongoDB's validator check.
        from . import mongo_schema, tasks  # noqa: F401
