"""Who is asking, decided once per request by real authentication.

The throttles, the shared one-second copy of anonymous reads and the views all read this one
answer. Only a valid token (``Authorization: Token <key>``) or a valid session counts as
signed in. An ``Authorization`` header of another scheme, or a session cookie that names no
session, is anonymous; a ``Token`` that names no token is a 401, as DRF answers it.

It costs nothing for an anonymous client (no header, no cookie), and no query for a valid
token on most requests: ``HashedTokenAuthentication`` trusts a token it checked for a few
seconds (``accounts.authentication.TRUSTED_SECONDS``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import auth
from django.http import HttpRequest
from rest_framework import exceptions

from accounts.authentication import HashedTokenAuthentication

# Where the answer is kept on Django's request (a DRF request wraps that one).
_KEPT = "_leaderboard_account"


def account(request: Any) -> Any | None:
    """The signed-in account, or None for an anonymous client. An invalid token raises DRF's
    ``AuthenticationFailed`` (a 401), every time it is asked."""
    http: HttpRequest = getattr(request, "_request", request)
    kept = http.__dict__.get(_KEPT, _UNSET)
    if kept is _UNSET:
        kept = http.__dict__[_KEPT] = _decide(http)
    if isinstance(kept, exceptions.AuthenticationFailed):
        raise kept
    return kept


def is_anonymous(request: Any) -> bool:
    """The one predicate for "anonymous": no valid token and no valid session."""
    return account(request) is None


_UNSET = object()


def _decide(http: HttpRequest) -> Any:
    try:
        credentials = HashedTokenAuthentication().authenticate(http)  # type: ignore[arg-type]
    except exceptions.AuthenticationFailed as exc:
        return exc
    if credentials is not None:
        return credentials[0]
    if settings.SESSION_COOKIE_NAME in http.COOKIES and hasattr(http, "session"):
        user = auth.get_user(http)
        # AuthenticationMiddleware reuses it rather than read the session again.
        http._cached_user = user  # type: ignore[attr-defined]
        if user.is_authenticated:
            return user
    return None
