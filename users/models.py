from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
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
    # Stamped by every change: the fingerprint check leaves out the rows changed in its last
    # moments, and /readyz reports the oldest pending row's age. Not what repairs the index:
    # that is the mark below.
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    # A boolean rather than `deleted_at IS NULL`, because MongoDB's partial indexes accept
    # equality conditions only.
    deleted = models.BooleanField(default=False, editable=False)
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set by every write in the same UPDATE that changes the row, and cleared, conditionally
    # on the version, once the ranking index holds that version: the rows the index may lack
    # are exactly the marked ones, whatever the clocks, lock waits or crashes in between.
    index_pending = models.BooleanField(default=True, db_default=True, editable=False)

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
            # The fingerprint check leaves out the rows changed in its last moments.
            models.Index(fields=["updated_at"], name="users_user_updated_idx"),
            # The sweep reads the marked rows only: O(pending), however many rows changed.
            models.Index(
                fields=["id"], name="users_user_index_pending_idx", condition=Q(index_pending=True)
            ),
        ]

    def __str__(self) -> str:
        return self.name


def user_columns(connection: BaseDatabaseWrapper) -> tuple[str, dict[str, str]]:
    """The users table and its columns by field name ("pk" too), quoted for ``connection``:
    for the statements the hot paths write by hand (``services``, ``selectors``)."""
    quote = connection.ops.quote_name
    columns = {field.name: quote(field.column) for field in User._meta.concrete_fields}
    columns["pk"] = columns[User._meta.pk.name]
    return quote(User._meta.db_table), columns


class IndexIdentity(models.Model):
    """Which database this is, for the ranking index: one row, made by ``migrate`` and made
    again after ``flush``. The index's keys carry ``token``, so a service on a fresh, flushed
    or other database never reads another database's board.

    ``checkpoint`` grows each time the sweep confirms writes, and the index keeps the value it
    last saw: an index ahead of its database means the database went back in time (a
    restored backup), and then it gets a new token and a new index.
    """

    # One row: the unique name keeps two processes that make it at once from making two.
    name = models.CharField(max_length=20, unique=True, default="default", editable=False)
    token = models.CharField(max_length=32, unique=True, editable=False)
    checkpoint = models.PositiveBigIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = "ranking index identity"

    def __str__(self) -> str:
        return self.token


class PendingRange(models.Model):
    """The mark of a bulk load: the users from ``first`` to ``last`` (by id) may be missing
    from the index. Written in the transaction that inserts them, and deleted once the loader
    has given them to the index, so that a load marks one row a batch rather than every user
    (and a loader killed in between leaves its rows for the sweep to apply)."""

    # Foreign keys without a constraint: their columns hold ids of the users' own type on
    # every backend (integers, or ObjectIds on MongoDB).
    first = models.ForeignKey(
        User, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    last = models.ForeignKey(
        User, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )

    def __str__(self) -> str:
        return f"users {self.first_id} to {self.last_id}"
