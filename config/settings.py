"""One settings module; every knob comes from the environment (django-environ).

Defaults give the embedded single-machine setup: SQLite and a Celery broker on the
file system under ``var/``, so ``make run`` needs no server. Production sets
DATABASE_URL, REDIS_URL, SECRET_KEY, ALLOWED_HOSTS and DEBUG=false.
"""

import secrets
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF, UNSAFE_INLINE

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A local .env is optional; the real environment always wins.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

VAR_DIR = Path(env("VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once into var/ (never committed)."""
    key = env("SECRET_KEY", default="")
    if key:
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Where people reach this install; used in links inside notifications.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    # Swagger UI served from this install's static files, not a CDN (docs work offline).
    "drf_spectacular_sidecar",
    "simple_history",
    "axes",
    "ircore",
    "incidents",
    "oncall",
    "comms",
    "postmortems",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    # Serves collected static files (admin CSS, API docs) with DEBUG off, from any WSGI server.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "ircore.middleware.UserTimezoneMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "ircore.middleware.PrivateApiResponseMiddleware",
    # Turns a locked-out login into a 429; axes wants it after the other middleware.
    "axes.middleware.AxesMiddleware",
    # Last, so its process_exception sees a view's exception first: database down -> 503.
    "ircore.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
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

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the worker write while the web process reads; the timeout rides out
    # short write locks instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The lockout check first (it refuses a locked-out username or address before any password
# is checked), then the ordinary user table.
AUTHENTICATION_BACKENDS = [
    "ircore.auth.LoginLockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
# Stored in UTC; shown in the viewer's time zone (profile) or this default.
TIME_ZONE = env("TIME_ZONE", default="UTC")
# The bearer token Prometheus sends to GET /metrics; unset, the endpoint refuses everyone.
METRICS_TOKEN = env("METRICS_TOKEN", default="")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# collectstatic writes here and WhiteNoise serves from here; made up front so a process that
# starts before the first collectstatic serves nothing rather than warning on every start.
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Compressed copies, no manifest: pages render before collectstatic has run (tests, a
    # bare runserver). Production may pick the manifest variant for far-future caching.
    "staticfiles": {
        "BACKEND": env(
            "STATICFILES_BACKEND", default="whitenoise.storage.CompressedStaticFilesStorage"
        )
    },
}

LOGIN_URL = "admin:login"

# --- Email (console by default so a first run prints mail instead of failing) ---
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="incidents@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Celery: Redis when REDIS_URL is set, else a file-system broker that needs no server ---
REDIS_URL = env("REDIS_URL", default="")
BROKER_DIR = VAR_DIR / "broker"
# A publisher (a request's after-commit enqueue, a beat tick) gives up on a broker that is down
# after one quick retry instead of kombu's default seconds of retries: the reconcilers send
# what was not enqueued, and a request must not hang on the broker.
BROKER_REDIS_TRANSPORT_OPTIONS = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 0.5,
    "socket_connect_timeout": env.float("BROKER_CONNECT_TIMEOUT", default=2.0),
}
if REDIS_URL:
    CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = dict(BROKER_REDIS_TRANSPORT_OPTIONS)
else:
    CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://")
    for sub in ("out", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "out"),
        "data_folder_out": str(BROKER_DIR / "out"),
        "processed_folder": str(BROKER_DIR / "processed"),
        # Exchange tables (worker remote control); kombu's default is ./control in the cwd.
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Tests and one-off scripts may run tasks inline.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# How often the escalation engine ticks (seconds): the most a page can wait past its time.
ESCALATION_TICK_SECONDS = env.float("ESCALATION_TICK_SECONDS", default=10.0)

# --- Notifications ---
# Slack-compatible incoming webhook used to reach people by chat handle (optional).
CHAT_WEBHOOK_URL = env("CHAT_WEBHOOK_URL", default="")
NOTIFY_HTTP_TIMEOUT = env.float("NOTIFY_HTTP_TIMEOUT", default=10.0)
NOTIFY_MAX_ATTEMPTS = env.int("NOTIFY_MAX_ATTEMPTS", default=6)
# How long a page message's one-click acknowledge link works (seconds; oncall.acklinks).
ACK_LINK_MAX_AGE = env.int("ACK_LINK_MAX_AGE", default=24 * 3600)
# The public status page: its name, how long a subscription's confirmation link works, the
# wait before a second confirmation mail to one address, and sign-ups per client address.
STATUS_PAGE_NAME = env("STATUS_PAGE_NAME", default="Status")
STATUS_CONFIRM_MAX_AGE = env.int("STATUS_CONFIRM_MAX_AGE", default=2 * 24 * 3600)
STATUS_CONFIRM_COOLDOWN = env.int("STATUS_CONFIRM_COOLDOWN", default=10 * 60)
STATUS_SUBSCRIBE_RATE = env("STATUS_SUBSCRIBE_RATE", default="10/hour")
# On-call pay (the load and pay report): a weekly stipend pro rata by hours on call, plus an
# amount per incident paged about (004's "$500 a week plus overtime").
ONCALL_WEEKLY_STIPEND = env("ONCALL_WEEKLY_STIPEND", default="500")
ONCALL_PER_INCIDENT = env("ONCALL_PER_INCIDENT", default="0")
ONCALL_CURRENCY = env("ONCALL_CURRENCY", default="USD")

# --- Caches. "default" is shared by every process: Redis when REDIS_URL is set, else a database
# table that a migration creates (ircore 0005), so the embedded default needs no server either.
# It holds the failed API token counts (login lockouts live in axes' own tables). ---
CACHE_TABLE = "ircore_cache"
if REDIS_URL:
    _redis_cache = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        # A db of its own is best: cache.clear() empties the whole Redis database.
        "LOCATION": env("CACHE_URL", default=REDIS_URL),
        "KEY_PREFIX": "ir",
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
    CACHES = {"default": _redis_cache, "throttle": _redis_cache}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": CACHE_TABLE,
        },
        # API rates are counted on every call: in the database that would be a write per API
        # request (and a SQLite write lock). The embedded default has one web process, so its
        # memory is shared by all that serve the API; production's Redis is shared by all.
        "throttle": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "api-throttle",
        },
    }

# --- Login throttling (django-axes): 5 failures for one username, or from one address, within
# 15 minutes lock further tries out for 15 minutes (429), even with the right password. ---
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own: username OR address
AXES_HTTP_RESPONSE_CODE = 429
# A good login does not clear earlier failures: it would clear the address's too, so one valid
# account would let its holder guess at others' passwords without limit.
AXES_RESET_ON_SUCCESS = False
AXES_CLIENT_IP_CALLABLE = "ircore.auth.client_ip"
AXES_ENABLE_ACCESS_FAILURE_LOG = True  # each failure is a row in the admin, with its address
# Reverse proxies in front of the web processes: the client's address is then the
# PROXY_COUNT-th entry from the right of X-Forwarded-For (0: REMOTE_ADDR, no proxy).
PROXY_COUNT = env.int("PROXY_COUNT", default=0)
# Failed API token authentications per client address before 429, and the window counted.
API_TOKEN_FAILURE_LIMIT = env.int("API_TOKEN_FAILURE_LIMIT", default=10)
API_TOKEN_FAILURE_WINDOW = timedelta(
    minutes=env.int("API_TOKEN_FAILURE_WINDOW_MINUTES", default=15)
)

# --- REST API ---
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "ircore.auth.ThrottledTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Per user (and per address for anonymous calls), through the shared cache; high enough
    # for busy integrations, low enough to stop a runaway script.
    "DEFAULT_THROTTLE_CLASSES": [
        "ircore.throttling.AnonRateThrottle",
        "ircore.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_THROTTLE_ANON", default="600/min"),
        "user": env("API_THROTTLE_USER", default="1200/min"),
    },
    "NUM_PROXIES": PROXY_COUNT,  # the same address as client_ip (0: REMOTE_ADDR, never XFF)
    "DEFAULT_PERMISSION_CLASSES": ["ircore.permissions.ModelPermissions"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "ircore.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Incident response API",
    "DESCRIPTION": "Declare, coordinate and resolve incidents; read the policy.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Swagger UI's validator badge would load an image from the validator's own site.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    # Several models have a field named "status"; each choice set gets a name of its own.
    "ENUM_NAME_OVERRIDES": {
        "PostmortemStatusEnum": "postmortems.models.postmortems.Postmortem.Status",
        "ActionItemStatusEnum": "postmortems.models.actions.ActionItem.Status",
    },
}

# --- Security (enforced when DEBUG is off; `manage.py check --deploy` passes with TLS set) ---
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=False)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): scripts, styles, fonts and images from this install only
# (the API docs too: Swagger UI comes from drf-spectacular-sidecar's static files). Inline style
# *attributes* are allowed: the severity admin draws its colour swatch with one, and an
# attribute can neither run script nor load anything that img-src/default-src would refuse.
# Inline <style> and <script> elements stay refused.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
if env("CSP_REPORT_URI", default=""):
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["report-uri"] = [env("CSP_REPORT_URI")]
# Permissions-Policy (django-permissions-policy): no page here needs a device or a payment.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
        "xr-spatial-tracking",
    )
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Token URLs (heartbeats, calendar feeds, acknowledge and status-page links) are logged
    # with the token redacted: ircore/logging.py has the list of paths.
    "filters": {"redact_tokens": {"()": "ircore.logging.RedactTokens"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        # runserver's access log, as Django's own default logging writes it.
        "server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "server": {"class": "logging.StreamHandler", "formatter": "server", "level": "INFO"},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Filters on the loggers the records start at, so every handler gets them redacted.
        "django.request": {"filters": ["redact_tokens"]},
        "django.server": {
            "handlers": ["server"],
            "level": "INFO",
            "propagate": False,
            "filters": ["redact_tokens"],
        },
        "ircore.middleware": {"filters": ["redact_tokens"]},
    },
}
