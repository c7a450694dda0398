from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import Winner


@admin.register(Winner)
class WinnerAdmin(admin.ModelAdmin):
    """The history is written by the job only; the admin reads it."""

    list_display = ["slot", "user", "points", "won_at"]
    list_select_related = ["user"]
    date_hierarchy = "slot"
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
