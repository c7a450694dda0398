from typing import Any

from csp.decorators import csp_update
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.csrf import ensure_csrf_cookie


@ensure_csrf_cookie
def board(request: HttpRequest) -> HttpResponse:
    """The leaderboard screen. It reads and writes through the public REST API only; a
    signed-in staff member writes with the session (and its CSRF token)."""
    return render(
        request,
        "leaderboard/board.html",
        {
            "can_edit": request.user.is_active and request.user.is_staff,
            "sign_in_url": f"{reverse('admin:login')}?next=/",
        },
    )


def docs(view_class: Any, **initkwargs: Any) -> Any:
    """An API docs page (Swagger UI, Redoc) from drf-spectacular, its assets served here;
    their inline styles are allowed on these pages only."""
    view = view_class.as_view(url_name="schema", **initkwargs)
    return csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["'self'", "blob:"]})(view)


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page says."""
    return HttpResponseRedirect(static("leaderboard/favicon.svg"))
