from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest

from .models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "account", "created_at"]
    list_select_related = ["account"]
    search_fields = ["account__username"]
    autocomplete_fields = ["account"]
    fields = ["account"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a token is issued or revoked, never edited

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        key = obj.set_new_key()
        super().save_model(request, obj, form, change)
        self.message_user(
            request,
            f"The new key is {key} — copy it now, it is not shown again.",
            messages.WARNING,
        )
