from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

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
        obj.new_key = obj.set_new_key()
        super().save_model(request, obj, form, change)

    def response_add(
        self, request: HttpRequest, obj: ApiToken, post_url_continue: Any = None
    ) -> HttpResponse:
        """Show the new key on the page that answers the form, once. Not in a message: those
        travel in a cookie, which is signed but not encrypted."""
        response = TemplateResponse(
            request,
            "admin/accounts/apitoken/new_key.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "token": obj,
                "key": obj.new_key,
                "title": "Copy the new key",
            },
        )
        response["Cache-Control"] = "no-store"
        return response
