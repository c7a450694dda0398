from typing import Any

from django.db.models import QuerySet

from users.models import User
from users.selectors import user_pk

from .models import Winner


def winner_list(*, user_id: Any = None) -> QuerySet[Winner]:
    """Newest first, with each winner's user (deleted ones too: the history keeps them);
    only ``user_id``'s wins if given (none for an id that names nobody)."""
    winners = Winner.objects.select_related("user").order_by("-won_at", "-pk")
    if user_id is None:
        return winners
    try:
        return winners.filter(user_id=user_pk(user_id))
    except User.DoesNotExist:
        return winners.none()
