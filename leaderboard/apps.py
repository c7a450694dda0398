from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


class LeaderboardConfig(AppConfig):
    name = "leaderboard"

    def ready(self) -> None:
        from .beat import restore_after_flush

        # Sent for apps with models only: once, for the app whose tables hold the schedule.
        beat = apps.get_app_config("django_celery_beat")
        post_migrate.connect(restore_after_flush, sender=beat)
