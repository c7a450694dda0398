from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .validators import validate_name, validate_printable

MAX_AGE = 150
# Points fit a 32-bit integer column everywhere, and stay exact as a Redis score (a double).
MAX_POINTS = 2**31 - 1


class UserQuerySet(models.QuerySet["User"]):
    def alive(self) -> "UserQuerySet":
        return self.filter(deleted=False)

    def in_leaderboard_order(self) -> "UserQuerySet":
        """Points descending; equal points in creation order (ids grow with creation)."""
        return self.order_by("-points", "pk")


class User(models.Model):
    """A person on the leaderboard. Not an account: API accounts are `auth.User`.

    Deleting one is soft (`deleted`), because the winners history keeps a real foreign key.
    """

    name = models.CharField(max_length=100, validators=[validate_name])
    age = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(0), MaxValueValidator(MAX_AGE)]
    )
    address = models.CharField(
        max_length=255, blank=True, default="", validators=[validate_printable]
    )
    points = models.IntegerField(default=0, editable=False)
    # Bumped by every change, so that the ranking index (and the profiles cached beside it)
    # can tell a newer state from an older one however late each reaches them.
    version = models.PositiveBigIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # Stamped by every change. The index is repaired from the rows changed since the last
    # moment it was known complete, so a write it missed is found from the database alone.
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    # A boolean rather than `deleted_at IS NULL`, because MongoDB's partial indexes accept
    # equality conditions only.
    deleted = models.BooleanField(default=False, editable=False)
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = UserQuerySet.as_manager()

    # Competition rank, set by the selectors that read users; not stored.
    rank: int

    class Meta:
        verbose_name = "leaderboard user"
        constraints = [
            models.CheckConstraint(
                condition=Q(points__gte=0) & Q(points__lte=MAX_POINTS),
                name="users_user_points_in_range",
            ),
            models.CheckConstraint(
                condition=Q(age__gte=0) & Q(age__lte=MAX_AGE), name="users_user_age_in_range"
            ),
        ]
        indexes = [
            # The leaderboard order, ?points=N and GROUP BY points, over live users only.
            models.Index(
                fields=["-points", "id"],
                name="users_user_live_board_idx",
                condition=Q(deleted=False),
            ),
            # The index's incremental repair reads the rows changed since a moment.
            models.Index(fields=["updated_at"], name="users_user_updated_idx"),
        ]

    def __str__(self) -> str:
        return self.name
