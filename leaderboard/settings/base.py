"""Settings shared by every environment. Everything that differs comes from the environment.

Each environment has its own module (local, production, test) that starts with
``from .base import *`` and says what it changes.
"""

from pathlib import Path

import environ

from leaderboard import embedded_redis

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")  # optional; real environment variables win

# Runtime state of the embedded default: the SQLite file, the Redis socket, collected static.
VAR_DIR = Path(env("VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=False)
HOST = env("HOST", default="127.0.0.1")
PORT = env.int("PORT", default=8000)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "django_celery_beat",
    "leaderboard",
    "accounts",
    "users",
    "winners",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Anonymous board reads: kept a second, with an ETag; see the class. Early, so that a
    # kept answer skips the rest of the stack; after CommonMiddleware, which checks the host.
    "django.middleware.common.CommonMiddleware",
    "leaderboard.middleware.AnonymousReadCache",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "leaderboard.urls"
WSGI_APPLICATION = "leaderboard.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# The embedded default is an SQLite file; DATABASE_URL points at PostgreSQL in production.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers run beside the writer; the busy timeout and IMMEDIATE transactions
        # make the web workers, Celery and the commands queue for the write lock instead of
        # failing with "database is locked".
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis ----------------------------------------------------------------------------------
# With no REDIS_URL, the project runs its own redis-server on var/redis.sock: `make run`
# supervises it (and says so with EMBEDDED_REDIS=supervised); a command run on its own starts
# it on first use.
REDIS_URL = env("REDIS_URL", default="")
EMBEDDED_REDIS_DIR = Path(env("EMBEDDED_REDIS_DIR", default=str(VAR_DIR)))
if not REDIS_URL:
    if env("EMBEDDED_REDIS", default="") == "supervised":
        _socket = embedded_redis.prepare(EMBEDDED_REDIS_DIR)
    else:
        _socket = embedded_redis.ensure_running(EMBEDDED_REDIS_DIR)
    REDIS_URL = f"unix://{_socket}?db=0"

CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {
            # Fail fast: with Redis away, reads fall back to the database.
            "SOCKET_CONNECT_TIMEOUT": 0.5,
            "SOCKET_TIMEOUT": 2.0,
        },
    }
}

# The ranking index (users/ranking/): its key prefix, and how long to skip Redis after it
# failed to answer.
LEADERBOARD_INDEX_PREFIX = env("LEADERBOARD_INDEX_PREFIX", default="leaderboard")
LEADERBOARD_REDIS_RETRY_SECONDS = env.float("LEADERBOARD_REDIS_RETRY_SECONDS", default=1.0)
# Readers stop trusting an index not repaired for this long (the repair runs every 10 s).
LEADERBOARD_INDEX_MAX_LAG_SECONDS = env.float("LEADERBOARD_INDEX_MAX_LAG_SECONDS", default=60)
# A repair re-reads rows changed since the watermark less this much: room for transactions
# that stamped `updated_at` before the watermark and committed after, and for clock skew.
LEADERBOARD_REPAIR_MARGIN_SECONDS = env.float("LEADERBOARD_REPAIR_MARGIN_SECONDS", default=10)
# A deleted user's tombstone stops writes from before the deletion; none is that late after
# this long.
LEADERBOARD_TOMBSTONE_SECONDS = env.float("LEADERBOARD_TOMBSTONE_SECONDS", default=600)
# Reads the index cannot answer go to the database, each for at most this long (then 503),
# and the grouped view's GROUP BY is reused by each process for the second figure.
LEADERBOARD_FALLBACK_SECONDS = env.float("LEADERBOARD_FALLBACK_SECONDS", default=1.5)
LEADERBOARD_FALLBACK_REUSE_SECONDS = env.float("LEADERBOARD_FALLBACK_REUSE_SECONDS", default=2)
# How long an anonymous read of the board may be reused (by each web process, a browser, a
# CDN): the contract allows up to 2 seconds.
LEADERBOARD_PUBLIC_CACHE_SECONDS = env.int("LEADERBOARD_PUBLIC_CACHE_SECONDS", default=1)

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=embedded_redis.celery_url(REDIS_URL))
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL)
CELERY_RESULT_EXPIRES = 3600
CELERY_TIMEZONE = "UTC"
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A message that a dead worker took is handed out again after this long, well inside the
# 5-minute winner slot it belongs to.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 120}

# --- Auth and API ---------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"

REST_FRAMEWORK = {
    # Token first, so that an anonymous write gets 401 with a WWW-Authenticate header.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.HashedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.ReadOnlyOrWriter"],
    "DEFAULT_PARSER_CLASSES": ["leaderboard.api.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["leaderboard.api.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "leaderboard.api.LimitOffsetPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "leaderboard.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Leaderboard API",
    "DESCRIPTION": "Rank users by points, change points, see groups and the winners history.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- I18N, static ---------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # Celery says "received" and "succeeded" for every task at INFO: with the index repaired
    # every 10 seconds, that would bury what the tasks themselves log.
    "loggers": {
        name: {"level": "WARNING"}
        for name in ("celery.app.trace", "celery.worker.strategy", "celery.beat")
    },
}
