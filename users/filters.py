import django_filters
from django import forms

from .models import MAX_POINTS, User


class IntegerFilter(django_filters.Filter):
    """Whole numbers only: django-filter's NumberFilter would accept 7.5."""

    field_class = forms.IntegerField


class LeaderboardFilter(django_filters.FilterSet):
    points = IntegerFilter(
        min_value=0,
        max_value=MAX_POINTS,
        help_text="Keep only users with exactly this many points.",
    )

    class Meta:
        model = User
        fields = ["points"]
