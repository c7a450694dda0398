"""Leaderboard users in the admin. Every change goes through the services, as in the API, so
the ranking index stays in step; and nothing here counts or scans the whole table."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.views.main import SEARCH_VAR
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest

from . import services
from .models import User
from .selectors import board_size, ranks_of

LIVE, DELETED = "live", "deleted"


class StatusFilter(admin.SimpleListFilter):
    """Live users by default; soft-deleted ones behind the filter."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(LIVE, "Live"), (DELETED, "Deleted")]

    def choices(self, changelist: Any) -> Any:
        for choice in super().choices(changelist):
            if choice["display"] != "All":  # "all" would mix the two; live is the default
                yield choice

    def value(self) -> str:
        return super().value() or LIVE

    def queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> QuerySet[User]:
        return queryset.filter(deleted=self.value() == DELETED)


class BoardPaginator(Paginator):
    """Takes the count of the whole live board from the ranking index instead of a full-table
    COUNT; filtered and searched lists count only what they match."""

    def __init__(self, *args: Any, board_count: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.board_count = board_count

    @cached_property
    def count(self) -> int:
        return super().count if self.board_count is None else self.board_count


def _apply_each(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet[User],
    change: Callable[[Any], object],
    done: str,
) -> None:
    """Run ``change(pk)`` (a service call) for each selected user and report the outcome.

    A user deleted or restored meanwhile is skipped; a refused points change is shown.
    """
    changed, refused = 0, []
    for pk in queryset.values_list("pk", flat=True):
        try:
            change(pk)
            changed += 1
        except services.PointsOutOfRange as exc:
            refused.append(str(exc))
        except User.DoesNotExist:
            pass
    modeladmin.message_user(request, done.format(count=changed))
    for reason in refused:
        modeladmin.message_user(request, reason, messages.WARNING)


def _points_action(delta: int, description: str) -> Callable[..., None]:
    @admin.action(description=description)
    def action(modeladmin: UserAdmin, request: HttpRequest, queryset: QuerySet[User]) -> None:
        _apply_each(
            modeladmin,
            request,
            queryset.filter(deleted=False),
            lambda pk: services.points_change(user_id=pk, delta=delta),
            "Changed the points of {count} users.",
        )

    action.__name__ = f"points_{'add' if delta > 0 else 'take'}_{abs(delta)}"
    return action


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ["name", "age", "points", "rank", "address"]
    list_filter = [StatusFilter]
    search_fields = ["name"]
    ordering = ["-points", "id"]
    sortable_by = ["name", "age", "points", "rank"]
    show_full_result_count = False  # no second COUNT of the whole table
    list_per_page = 50
    fields = ["name", "age", "address", "points", "rank", "created_at", "deleted_at"]
    readonly_fields = ["points", "rank", "created_at", "deleted_at"]
    actions = [
        _points_action(+1, "+1 point"),
        _points_action(-1, "−1 point"),
        "soft_delete",
        "restore",
    ]

    @admin.display(description="rank", ordering="-points")
    def rank(self, user: User) -> int | str:
        if user.deleted or user.pk is None:
            return "—"
        if not hasattr(user, "rank"):  # the change form shows one user
            user.rank = ranks_of({user.points})[user.points]
        return user.rank

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        changelist = super().get_changelist_instance(request)
        live = [user for user in changelist.result_list if not user.deleted]
        ranks = ranks_of({user.points for user in live})  # one round trip for the page
        for user in live:
            user.rank = ranks[user.points]
        return changelist

    def get_paginator(
        self,
        request: HttpRequest,
        queryset: QuerySet[User],
        per_page: int,
        orphans: int = 0,
        allow_empty_first_page: bool = True,
    ) -> Paginator:
        status = request.GET.get(StatusFilter.parameter_name, LIVE)
        unfiltered = status == LIVE and not request.GET.get(SEARCH_VAR)
        return BoardPaginator(
            queryset,
            per_page,
            orphans,
            allow_empty_first_page,
            board_count=board_size() if unfiltered else None,
        )

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # deletion is soft, through `soft_delete`
        return actions

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the row stays for the winners history; see `soft_delete`

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        fields = {name: form.cleaned_data[name] for name in ("name", "age", "address")}
        if change:
            saved = services.user_update(user_id=obj.pk, **fields)
        else:
            saved = services.user_create(**fields)
        obj.pk = saved.id

    @admin.action(description="Delete selected users (they stay in the winners history)")
    def soft_delete(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        _apply_each(
            self,
            request,
            queryset.filter(deleted=False),
            lambda pk: services.user_delete(user_id=pk),
            "Deleted {count} users.",
        )

    @admin.action(description="Restore selected deleted users")
    def restore(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        _apply_each(
            self,
            request,
            queryset.filter(deleted=True),
            lambda pk: services.user_restore(user_id=pk),
            "Restored {count} users.",
        )
