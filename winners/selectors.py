from django.db.models import QuerySet

from .models import Winner


def winner_list() -> QuerySet[Winner]:
    """Newest first, with each winner's user (deleted ones too: the history keeps them)."""
    return Winner.objects.select_related("user").order_by("-won_at", "-pk")
