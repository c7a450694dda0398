from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from . import api, health, views

urlpatterns = [
    path("", views.board, name="board"),
    path("api/", include("users.urls")),
    path("api/", include("winners.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script, so the
    # page keeps to the Content-Security-Policy.
    path("api/docs/", views.docs(SpectacularSwaggerSplitView), name="docs"),
    path(
        "api/redoc/",
        views.docs(SpectacularRedocView, template_name="leaderboard/redoc.html"),
        name="redoc",
    ),
    re_path(r"^api/", api.not_found),
    # Probes answer with or without the trailing slash: load balancers are configured by hand.
    re_path(r"^healthz/?$", health.healthz, name="healthz"),
    re_path(r"^readyz/?$", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("favicon.ico", views.favicon),
]
