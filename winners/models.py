from django.db import models

from users.models import User


class Winner(models.Model):
    """The single user on top of the board at a 5-minute slot."""

    # PROTECT is safe because deleting a leaderboard user is soft: the row stays.
    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="wins")
    points = models.IntegerField(help_text="The winner's points at that moment.")
    won_at = models.DateTimeField(help_text="When the board was looked at.")
    slot = models.DateTimeField(help_text="Start of the 5-minute slot (12:00, 12:05, …).")

    class Meta:
        ordering = ["-won_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["slot"], name="winners_winner_one_per_slot"),
        ]
        indexes = [models.Index(fields=["-won_at", "-id"], name="winners_winner_newest_idx")]

    def __str__(self) -> str:
        return f"{self.user} with {self.points} points at {self.won_at:%Y-%m-%d %H:%M}"
