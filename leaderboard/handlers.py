"""Two middleware stacks, chosen per request: the site's, and a shorter one for the API.

Sessions, CSRF, authentication by session, messages, the clickjacking and CSP headers, the
sign-in lockouts and the static files serve the screen, the admin and whoever signs in to
them: requests that carry cookies, or answers that are pages. An API call that carries no
cookie (a token or no one) needs none of them, and passing through them cost a third of a
point change. Such calls take ``API_MIDDLEWARE``; every other request, an API call with a
session cookie included, takes ``MIDDLEWARE``, which is also what ``check`` inspects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler


class _Handler(WSGIHandler):
    """Django's WSGI handler, built with the middleware ``middleware`` names (Django's own
    reads ``settings.MIDDLEWARE`` as it builds its chain, once, here)."""

    def __init__(self, middleware: list[str]) -> None:
        self._middleware = middleware
        super().__init__()

    def load_middleware(self, is_async: bool = False) -> None:
        site = settings.MIDDLEWARE
        settings.MIDDLEWARE = self._middleware
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = site


class Application:
    """The WSGI application: ``API_MIDDLEWARE`` for cookie-less requests under /api/."""

    def __init__(self) -> None:
        self.site = WSGIHandler()
        self.api = _Handler(settings.API_MIDDLEWARE)

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        handler = self.api if is_api_call(environ) else self.site
        return handler(environ, start_response)


def is_api_call(environ: dict[str, Any]) -> bool:
    return environ.get("PATH_INFO", "").startswith("/api/") and "HTTP_COOKIE" not in environ
