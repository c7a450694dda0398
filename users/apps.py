from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "users"
    verbose_name = "Leaderboard"

    def ready(self) -> None:
        # The index asks for repairs and rebuilds through this callback rather than importing
        # the tasks, which import the services, which import the index.
        from . import mongo_schema, ranking, tasks  # noqa: F401 (mongo_schema: its check)

        ranking.on_request(tasks.request)
