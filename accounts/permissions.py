from typing import Any

from rest_framework import permissions
from rest_framework.request import Request

from .models import ApiToken


class ReadOnlyOrWriter(permissions.BasePermission):
    """Anyone reads. Writes need an API token, or a staff member's session (the web page)."""

    message = "Writes need an API token, or a staff member's session."

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        if isinstance(request.auth, ApiToken):
            return True
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)
