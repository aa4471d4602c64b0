"""Settings shared by every environment; values come from the environment (django-environ)."""

from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONCE
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-key-change-me")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# load_demo_city creates demo logins with the published password; production allows it only with DEMO_USERS=1
DEMO_USERS = env.bool("DEMO_USERS", default=True)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "leaflet",
    "axes",
    "csp",
    # the core
    "org",
    "realtime",
    # the domain apps, in layer order
    "grid",
    "tickets",
    "hotline",
    "alerts",
    "datahub",
    "field",  # the grid worker's phone workspace and grid-worker performance (above tickets)
    "dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "org.middleware.DatabaseOutageMiddleware",  # a database outage is a quick 503 (before any query)
    "django.contrib.sessions.middleware.SessionMiddleware",
    "org.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # bad input (control characters, over-long values, malformed or reused idempotency keys) → 4xx before any view
    "org.middleware.InputGuardMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "org.middleware.AdminScriptPolicyMiddleware",
    # axes last: it needs the authenticated user and answers locked-out logins itself
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "command_center.urls"
ADMIN_URL_PATH = "admin/"
ASGI_APPLICATION = "command_center.asgi.application"
WSGI_APPLICATION = "command_center.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url(
        "DATABASE_URL",
        default="postgis://postgres@127.0.0.1:5432/command_center",
        engine="django.contrib.gis.db.backends.postgis",
    )
}
DATABASES["default"]["ENGINE"] = "django.contrib.gis.db.backends.postgis"
# A psycopg connection pool in every process, shared by its request threads (gunicorn's or a2wsgi's),
# websocket consumers and tasks; each request hands its connection back when it ends. Without a pool every
# request would start a new PostgreSQL backend, costly with PostGIS.
# DB_POOL_MAX=0 turns the pool off and CONN_MAX_AGE applies again.
DB_POOL_MAX = env.int("DB_POOL_MAX", default=16)
if DB_POOL_MAX:
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps the connections; Django returns them after each request
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DB_POOL_MIN", default=2),
        "max_size": DB_POOL_MAX,
        "timeout": env.float("DB_POOL_TIMEOUT", default=10.0),  # seconds a request waits for a free connection
        # a failed reconnection is given up after this long: after an outage the pool grows anew on demand rather
        # than waiting for attempts its backoff scheduled far apart (org/database.py)
        "reconnect_timeout": env.float("DB_POOL_RECONNECT_TIMEOUT", default=2.0),
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
# Threads that run HTTP requests in each server process (gunicorn --threads, a2wsgi's pool): one per pooled connection.
HTTP_THREADS = env.int("HTTP_THREADS", default=DB_POOL_MAX or 16)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=False)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "cc",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    },
    # per-process copies of small, rarely edited tables (org/cache.py: per_process)
    "local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tables", "TIMEOUT": 60},
}
# Sessions live in PostgreSQL: Redis may be lost at any time without logging anyone out.
SESSION_ENGINE = "django.contrib.sessions.backends.db"


def channel_layer_hosts(url: str) -> list[dict]:
    """The channel layer's Redis hosts. channels-redis waits for a consumer's next message with a blocking read
    of 5 s (RedisChannelLayer.brpop_timeout), again and again; redis-py's default socket timeout is also 5 s, so
    with a bare URL every quiet websocket died after 5 s ("Timeout reading") and each wall reconnected and
    reloaded its snapshot. The socket timeout here outlasts the blocking read; a Redis that is gone still shows
    at once (the connection is refused or reset), a silent one after this many seconds."""
    return [{"address": url, "socket_timeout": 15, "socket_connect_timeout": 2}]


CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": channel_layer_hosts(REDIS_URL), "capacity": 1000, "expiry": 60},
    }
}

AUTH_USER_MODEL = "org.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "org.backends.ScopedModelBackend",  # ModelBackend that loads the user's region and department with it
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 0.25  # hours: 15 minutes
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = env("STATIC_ROOT", default=str(BASE_DIR / "var" / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = env("MEDIA_ROOT", default=str(BASE_DIR / "var" / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

REST_FRAMEWORK = {
    # sessions for people (signed in at /login/, with its lockout and CSRF); machines use tokens of their own
    # (data hub department tokens, Open311 API keys). No Basic auth: it would take a password on every request.
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # every body passes the input rules of org.inputs (depth, control characters, lengths; JSON must be an object)
    "DEFAULT_PARSER_CLASSES": [
        "org.parsers.JSONObjectParser",
        "org.parsers.FormParser",
        "org.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "org.schema.AutoSchema",  # documents each operation's error answers
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "org.api.Pagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "org.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "一网统管 指挥中心 API",
    "DESCRIPTION": "Command center API: tickets, grids, hotline, alerts, data hub.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # the phone workspace's plain JSON views (/m/api/...), described by documentation-only APIViews
    "PREPROCESSING_HOOKS": ["org.schema.add_documented_views"],
    # Django's <int:…> matches digits only: a negative id never reaches a view
    "PATH_CONVERTER_OVERRIDES": {"int": {"type": "integer", "minimum": 0}},
}

# Celery: Redis broker, static beat schedule; every app adds its entries below.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {"task": "realtime.heartbeat", "schedule": 15.0},
    "outbox-sweep": {"task": "realtime.relay_outbox", "schedule": 5.0},
}

# Health: how stale a beat tick may be before /healthz calls beat down.
HEALTH_BEAT_MAX_AGE_SECONDS = env.int("HEALTH_BEAT_MAX_AGE_SECONDS", default=60)

# GeoDjango: WGS 84 everywhere; metre distances go through geography casts.
SRID = 4326
LEAFLET_CONFIG = {
    "DEFAULT_CENTER": (32.0, 120.3),
    "DEFAULT_ZOOM": 10,
    "TILES": env("MAP_TILES_URL", default="https://webrd01.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}"),
    "ATTRIBUTION_PREFIX": "江海市指挥中心",
    "RESET_VIEW": False,
}
MAP_TILES_URL = LEAFLET_CONFIG["TILES"]

# Content-Security-Policy (django-csp 4): our own static files only, map tiles from the configured host.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:", "https:", "http:"],
        "connect-src": ["'self'", "ws:", "wss:"],
        "worker-src": ["'self'", "blob:"],
        "frame-ancestors": ["'none'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}, "axes": {"level": "WARNING"}},
}

# Debian 12 ships GDAL 3.6, which cannot block file/network access from spatial reference strings.
# We never hand user-supplied SRS text to GDAL (geometry arrives as GeoJSON in SRID 4326), so the
# warning is noted here and silenced rather than left to drown out `check --deploy`.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]

# Data hub: days of vehicle positions kept (older day partitions are dropped by the hourly maintenance).
DATAHUB_POSITION_RETENTION_DAYS = env.int("DATAHUB_POSITION_RETENTION_DAYS", default=90)
CELERY_BEAT_SCHEDULE["datahub-partitions"] = {"task": "datahub.maintain_partitions", "schedule": 3600.0}

# Tickets: deadline scan every 30 s; working hours of the calendar; escalation grace after a deadline; photo limits.
CELERY_BEAT_SCHEDULE["tickets-scan-deadlines"] = {"task": "tickets.scan_deadlines", "schedule": 30.0}
# Tickets: the category classifier retrains nightly from the day's closed tickets (智能分类).
CELERY_BEAT_SCHEDULE["tickets-train-classifier"] = {"task": "tickets.train_classifier", "schedule": crontab(hour=2, minute=30)}
# a scan stops after this many seconds (the next beat carries on), so a slow scan never runs into the next one
TICKETS_SCAN_BUDGET_SECONDS = env.float("TICKETS_SCAN_BUDGET_SECONDS", default=25.0)
TICKETS_WORKING_HOURS = env.json("TICKETS_WORKING_HOURS", default=[["08:30", "12:00"], ["13:30", "17:30"]])
TICKETS_ESCALATION_GRACE = (env.float("TICKETS_ESCALATION_GRACE_HOURS", default=4.0), "working_hours")
TICKETS_PHOTO_MAX_BYTES = env.int("TICKETS_PHOTO_MAX_BYTES", default=8 * 1024 * 1024)

# Dashboard: ECharts comes from the npm registry (package.json, `npm ci`) and is served as our own static file.
_ECHARTS_DIST = BASE_DIR / "node_modules" / "echarts" / "dist"
if _ECHARTS_DIST.is_dir():
    STATICFILES_DIRS.append(("vendor/echarts", _ECHARTS_DIST))
# Statistics: the daily figures are rebuilt every minute (and before each statistics page).
CELERY_BEAT_SCHEDULE["dashboard-rollup"] = {"task": "dashboard.refresh_rollup", "schedule": 60.0}

# Alerts: the periodic detection pass every 5 minutes (vehicle rules over the last 15 minutes plus a 2-hour look-back,
# licence and dwelling registers, hotline contacts); each ingested batch is also detected at once (batch_committed).
CELERY_BEAT_SCHEDULE["alerts-detect-recent"] = {"task": "alerts.detect_recent", "schedule": 300.0}
# Tickets: distinct OpenAPI enum names for the tickets app's choice sets (keeps `check --deploy` free of W001).
SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {}).update({
    "TicketTimeUnitEnum": "tickets.models.TimeUnit",
    "TicketSourceEnum": "tickets.models.Source",
    "CategoryKindEnum": "tickets.models.Category.Kind",
    "CategoryDispatchRuleEnum": "tickets.models.Category.Rule",
    "AssignmentStateEnum": "tickets.models.Assignment.State",
    "AssignmentRoleEnum": "tickets.models.Assignment.Role",
    "TicketRequestKindEnum": "tickets.models.TicketRequest.Kind",
    "TicketRequestDecisionEnum": "tickets.models.TicketRequest.Decision",
    "PhoneFlagEnum": "field.schema.FLAG",
})
# Grid: forget the answers stored for the phones' idempotency keys after 30 days, once a day.
CELERY_BEAT_SCHEDULE["grid-prune-mobile-submissions"] = {"task": "grid.prune_mobile_submissions", "schedule": 86400.0}
# Org: forget which request each Idempotency-Key carried after 30 days, once a day.
CELERY_BEAT_SCHEDULE["org-prune-idempotency-records"] = {"task": "org.prune_idempotency_records", "schedule": 86400.0}
