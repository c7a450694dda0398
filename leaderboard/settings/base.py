"""Settings shared by every environment. Everything that differs comes from the environment.

Each environment has its own module (local, production, test) that starts with
``from .base import *`` and says what it changes.
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ

from leaderboard import embedded_redis
from leaderboard.http.limits import MAX_BODY_BYTES

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
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "axes",
    "leaderboard",
    "accounts",
    "users",
    "winners",
]

MIDDLEWARE = [
    # What a client may send (URL, body size, chunked bodies, deadlines), before anything.
    "leaderboard.http.bodies.RequestLimits",
    "django.middleware.security.SecurityMiddleware",
    # JSON answers of a kilobyte or more, gzip-compressed for clients that accept it; outside
    # the kept answers, so those are compressed too.
    "leaderboard.http.cache.JsonGZip",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "csp.middleware.CSPMiddleware",
    # Anonymous reads (leaderboard.http.identity decides who is anonymous): throttled per
    # address, then, for the board, kept a second with an ETag. Early, so that a kept answer
    # skips the rest of the stack; after CommonMiddleware, which checks the host, and the
    # sessions, which identity reads.
    "leaderboard.http.throttles.anonymous_reads",
    "leaderboard.http.cache.AnonymousReadCache",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Locks out admin sign-ins after repeated failures; last, as django-axes asks.
    "axes.middleware.AxesMiddleware",
]
# API calls that carry no cookie take these only (leaderboard/handlers.py): what serves the
# site's pages and sessions has nothing to do for them.
_SITE_ONLY = {
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
}
API_MIDDLEWARE = [name for name in MIDDLEWARE if name not in _SITE_ONLY]

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
# The embedded default is an SQLite file; DATABASE_URL points at PostgreSQL in production, or
# at MongoDB (mongodb:// or mongodb+srv://, through django-mongodb-backend).
DATABASE_URL = env("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
IS_MONGODB = DATABASE_URL.startswith(("mongodb://", "mongodb+srv://"))
if IS_MONGODB:
    # django-environ does not know MongoDB; the backend takes the connection string as HOST,
    # and pymongo keeps its own pool.
    DATABASES = {
        "default": {
            "ENGINE": "django_mongodb_backend",
            "HOST": DATABASE_URL,
            "NAME": urlsplit(DATABASE_URL).path.strip("/") or "leaderboard",
        }
    }
else:
    DATABASES = {"default": env.db_url_config(DATABASE_URL)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        VAR_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)
        DATABASES["default"]["OPTIONS"] = {
            # WAL lets readers run beside the writer; the busy timeout and IMMEDIATE
            # transactions make the web workers, Celery and the commands queue for the write
            # lock instead of failing with "database is locked".
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        }
    else:
        DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
        if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
            # The same backend, checking a kept connection without a round trip, and preparing
            # the hot paths' own statements once per connection (psycopg's threshold; Django
            # turns preparing off, and its own queries never prepare). A pooler in front must
            # keep prepared statements: PgBouncer 1.21+ with max_prepared_statements.
            DATABASES["default"]["ENGINE"] = "leaderboard.db.postgresql"
            DATABASES["default"].setdefault("OPTIONS", {}).setdefault("prepare_threshold", 5)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# MongoDB mode checked with no server at all (`make check-mongo`).
MONGODB_NO_SERVER = env.bool("MONGODB_NO_SERVER", default=False)

if IS_MONGODB:
    # MongoDB mode, as django-mongodb-backend's documentation configures it: ObjectId ids,
    # the contrib and third-party apps' configurations that use them (leaderboard.mongo_apps),
    # and a separate migrations tree made for them (mongo_migrations/, kept in step with the
    # SQL one by `make check-mongo`).
    DEFAULT_AUTO_FIELD = "django_mongodb_backend.fields.ObjectIdAutoField"
    _MONGO_APPS = {
        "django.contrib.admin": "leaderboard.mongo_apps.MongoAdminConfig",
        "django.contrib.auth": "leaderboard.mongo_apps.MongoAuthConfig",
        "django.contrib.contenttypes": "leaderboard.mongo_apps.MongoContentTypesConfig",
        "django_celery_beat": "leaderboard.mongo_apps.MongoBeatConfig",
        "axes": "leaderboard.mongo_apps.MongoAxesConfig",
    }
    INSTALLED_APPS = ["django_mongodb_backend", *(_MONGO_APPS.get(a, a) for a in INSTALLED_APPS)]
    MIGRATION_MODULES = {
        app: f"mongo_migrations.{app}"
        for app in [
            "admin", "auth", "contenttypes", "sessions", "django_celery_beat", "axes",
            "accounts", "users", "winners",
        ]
    }  # fmt: skip
    DATABASE_ROUTERS = ["django_mongodb_backend.routers.MongoRouter"]
    if MONGODB_NO_SERVER:
        DATABASE_ROUTERS.insert(0, "leaderboard.routers.NoServerRouter")
    # MongoDB has no check constraints (W027): the users collection's $jsonSchema validator
    # holds the same invariants there, and users.E001 (users/mongo_schema.py) says when it is
    # missing.
    SILENCED_SYSTEM_CHECKS = ["models.W027"]

# --- Redis ----------------------------------------------------------------------------------
# Redis holds the ranking index, the cache (throttle counts) and, unless CELERY_BROKER_URL
# says otherwise, Celery's broker and results. Three ways to reach it:
# - REDIS_SENTINELS ("host:port,host:port,..."): the primary that Sentinel names, followed
#   through a failover without a restart (django-redis's SentinelClient, kombu's sentinel://);
# - REDIS_URL: one server;
# - neither: the project's own redis-server on var/redis.sock. Settings only compute its
#   address: `make run` supervises it (and tells its children so with
#   EMBEDDED_REDIS=supervised), and a command run on its own starts it first (manage.py and
#   the tests call embedded_redis.start_for_command).
REDIS_SENTINELS = env.list("REDIS_SENTINELS", default=[])
REDIS_SENTINEL_MASTER = env("REDIS_SENTINEL_MASTER", default="leaderboard")
REDIS_DB = env.int("REDIS_DB", default=0)
REDIS_URL = env("REDIS_URL", default="")
EMBEDDED_REDIS_DIR = Path(env("EMBEDDED_REDIS_DIR", default=str(VAR_DIR)))
USES_EMBEDDED_REDIS = not REDIS_SENTINELS and not REDIS_URL
if REDIS_SENTINELS:
    REDIS_URL = f"redis://{REDIS_SENTINEL_MASTER}/{REDIS_DB}"
elif USES_EMBEDDED_REDIS:
    REDIS_URL = f"unix://{embedded_redis.socket_path(EMBEDDED_REDIS_DIR)}?db=0"

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
if REDIS_SENTINELS:
    CACHES["default"]["OPTIONS"] |= {
        "CLIENT_CLASS": "django_redis.client.SentinelClient",
        "CONNECTION_FACTORY": "django_redis.pool.SentinelConnectionFactory",
        "SENTINELS": [
            (host, int(port)) for host, port in (s.rsplit(":", 1) for s in REDIS_SENTINELS)
        ],
        "SENTINEL_KWARGS": {"socket_connect_timeout": 0.5, "socket_timeout": 2.0},
    }

# The ranking index (users/ranking/): its key prefix, and how long to skip Redis after it
# failed to answer.
LEADERBOARD_INDEX_PREFIX = env("LEADERBOARD_INDEX_PREFIX", default="leaderboard")
LEADERBOARD_REDIS_RETRY_SECONDS = env.float("LEADERBOARD_REDIS_RETRY_SECONDS", default=1.0)
# Reads trust the index for this long after a sweep (every second, on beat) began a pass that
# applied every marked row: the longest a committed write can be missing from a trusted index.
LEADERBOARD_INDEX_TRUST_SECONDS = env.float("LEADERBOARD_INDEX_TRUST_SECONDS", default=10)
# The index of another database on the same Redis that no sweep has kept alive for this long
# is freed (a database deleted or replaced beside it; a flushed or restored one is freed at
# once).
LEADERBOARD_INDEX_IDLE_SECONDS = env.float("LEADERBOARD_INDEX_IDLE_SECONDS", default=900)
# The fingerprint check leaves out the users changed in its last this many seconds, whose
# index writes may still be on their way.
LEADERBOARD_CHECK_MARGIN_SECONDS = env.float("LEADERBOARD_CHECK_MARGIN_SECONDS", default=10)
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
# The broker: CELERY_BROKER_URL (amqp://... for RabbitMQ, production's choice), else Redis as
# above. Results always stay in Redis (RabbitMQ's own result backend is deprecated).
if REDIS_SENTINELS:
    _celery_redis = ";".join(f"sentinel://{s}/{REDIS_DB}" for s in REDIS_SENTINELS)
    CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"master_name": REDIS_SENTINEL_MASTER}
else:
    _celery_redis = embedded_redis.celery_url(REDIS_URL)
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=_celery_redis)
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=_celery_redis)
CELERY_RESULT_EXPIRES = 3600
CELERY_TIMEZONE = "UTC"
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BEAT_SCHEDULER = "leaderboard.beat_scheduler:HeartbeatScheduler"  # + a heartbeat
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# On Redis, a message that a dead worker took is handed out again after this long, well
# inside the 5-minute winner slot it belongs to (RabbitMQ hands it out when the worker's
# connection drops).
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {"visibility_timeout": 120}
if REDIS_SENTINELS:
    CELERY_BROKER_TRANSPORT_OPTIONS["master_name"] = REDIS_SENTINEL_MASTER

# --- Auth and API ---------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
# No request body the service reads is bigger (leaderboard.http.limits has every limit).
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_BODY_BYTES
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses a locked-out sign-in before checking it
    "django.contrib.auth.backends.ModelBackend",
]
# Five failed admin sign-ins for one username from one address lock that pair out for 15
# minutes (429). A database handler: lockouts hold across processes and restarts.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "leaderboard.http.throttles.client_address"

# How many proxies in front of the service add themselves to X-Forwarded-For: the client's
# address for throttling and sign-in lockouts is read behind them. 0 trusts no header.
NUM_PROXIES = env.int("NUM_PROXIES", default=0)
# Anonymous reads per client address, and writes per account, in DRF's rate format; "off"
# turns one off. A screen polls every 2 seconds: 600 a minute leaves room for many behind one
# address. 120 writes a minute is two clicks a second for a staff member or a script; a game
# server sending its players' scores through one account sets THROTTLE_WRITES higher.
THROTTLE_ANON = env("THROTTLE_ANON", default="600/minute")
THROTTLE_WRITES = env("THROTTLE_WRITES", default="120/minute")

REST_FRAMEWORK = {
    # Token first, so that an anonymous write gets 401 with a WWW-Authenticate header.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.HashedTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.ReadOnlyOrWriter"],
    "DEFAULT_PARSER_CLASSES": ["leaderboard.http.bodies.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["leaderboard.api.JSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "leaderboard.api.ContentNegotiation",
    "DEFAULT_PAGINATION_CLASS": "leaderboard.api.LimitOffsetPagination",
    "DEFAULT_THROTTLE_CLASSES": ["leaderboard.http.throttles.WriteThrottle"],
    "NUM_PROXIES": NUM_PROXIES,
    "DEFAULT_SCHEMA_CLASS": "leaderboard.schema.AutoSchema",
    "EXCEPTION_HANDLER": "leaderboard.http.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Leaderboard API",
    "DESCRIPTION": "Rank users by points, change points, see groups and the winners history.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI and Redoc from the drf-spectacular-sidecar wheel, pinned and served by
    # WhiteNoise: the docs work offline, and no third-party script runs beside the admin.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# A Content-Security-Policy on every answer (django-csp): the page, the admin and the docs
# load scripts, styles and data from this origin only, and nobody may frame them. Swagger UI
# sets inline styles on its elements, which "style-src" allows for the docs alone (their
# view says so).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
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
        for name in ("celery.app.trace", "celery.worker.strategy", "celery.beat", "axes")
    },
}
