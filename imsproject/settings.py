"""Settings for the image catalog.

Every deployment knob comes from the environment (see the README's "Settings" table).
The defaults run on a laptop with SQLite; production values come from the environment.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

# ------------------------------------------------------------------------------
# Core
# ------------------------------------------------------------------------------

DEBUG = env.bool("DJANGO_DEBUG", default=True)

# A development key is only acceptable while debugging; production must bring its own.
_DEVELOPMENT_SECRET_KEY = "development-only-not-secret-0123456789abcdefghijklmnopqrstuvwxyz"
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off (production mode)."
        )
    SECRET_KEY = _DEVELOPMENT_SECRET_KEY

ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc, served as static files
    "catalog.apps.LoginLockoutConfig",  # django-axes, under a name staff recognise
    "catalog",
]

MIDDLEWARE = [
    # First: a request id and a log line for every response, a disallowed Host included.
    "catalog.api.middleware.LegacyApiMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Turns a login that django-axes refused into the "locked" login page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "imsproject.urls"
WSGI_APPLICATION = "imsproject.wsgi.application"

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

# ------------------------------------------------------------------------------
# Database
# ------------------------------------------------------------------------------

# Bounded waits on PostgreSQL (catalog/database.py). Every database wait of a request shares
# one deadline, in seconds from the request's start: the API's, a shorter one for /healthz (a
# load balancer's probe), a longer one for the admin (an import runs many statements).
# Connecting gives up after CATALOG_DB_CONNECT_TIMEOUT, in a request or a command. PostgreSQL
# cancels the web server's queries after CATALOG_STATEMENT_TIMEOUT milliseconds (0: never), so
# no query outlives its request; management commands are not limited.
CATALOG_DB_TIMEOUT = env.float("CATALOG_DB_TIMEOUT", default=5.0)
CATALOG_HEALTHZ_TIMEOUT = env.float("CATALOG_HEALTHZ_TIMEOUT", default=1.0)
CATALOG_ADMIN_DB_TIMEOUT = env.float("CATALOG_ADMIN_DB_TIMEOUT", default=25.0)
CATALOG_DB_CONNECT_TIMEOUT = env.int("CATALOG_DB_CONNECT_TIMEOUT", default=5)
CATALOG_STATEMENT_TIMEOUT = env.int("CATALOG_STATEMENT_TIMEOUT", default=3000)

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the API read while the admin or an import writes; IMMEDIATE transactions
    # make a writer wait for the lock instead of failing half-way with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"}
    )
else:
    # Keep connections between requests. They are not health-checked before each request (a
    # round trip every time): a read-only request that finds its kept connection dead, after
    # a database restart, is answered again on a new one (catalog/api/middleware.py).
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DJANGO_CONN_MAX_AGE", default=60))
    # libpq's own bound, for whatever connects while no wait callback is installed.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", CATALOG_DB_CONNECT_TIMEOUT
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# ------------------------------------------------------------------------------
# Passwords, language, time
# ------------------------------------------------------------------------------

# django-axes first: it refuses a locked-out login before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# ------------------------------------------------------------------------------
# Static files (the admin's, Swagger UI's and Redoc's), served by whitenoise in production
# ------------------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# ------------------------------------------------------------------------------
# Security (production: DJANGO_DEBUG=false)
# ------------------------------------------------------------------------------

# A client that reaches the server directly could claim any scheme or host in these headers:
# they are believed only from the proxy the service is deployed behind.
CATALOG_BEHIND_PROXY = env.bool("CATALOG_BEHIND_PROXY", default=False)
if CATALOG_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True

if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    # Load balancers probe the health check over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True

# ------------------------------------------------------------------------------
# Logging
# ------------------------------------------------------------------------------

# Every line names the request it was written for (catalog/api/request_id.py), "-" for none:
# the API's own, Django's (django.request, django.security), the libraries' and the access log.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s"}
    },
    "filters": {
        "request_id": {"()": "catalog.api.request_id.RequestIdFilter"},
        "answered": {"()": "imsproject.serve.AnsweredRequestsOnly"},
        "response_request_id": {"()": "imsproject.serve.RequestIdFromResponse"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id"],
        }
    },
    "loggers": {
        # Django's own handlers write its lines a second time, without the request id, while
        # DEBUG is on: its lines go to the console handler above instead, like every other.
        "django": {"handlers": [], "propagate": True},
        "hypercorn.access": {"filters": ["answered", "response_request_id"]},
    },
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
}

# ------------------------------------------------------------------------------
# Admin login lockout (django-axes; the API's tokens never pass through it)
# ------------------------------------------------------------------------------

# Failures are counted per username and per address, separately: a user attacked from many
# addresses is locked, and so is an address that tries many users.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = env.int("CATALOG_LOGIN_FAILURE_LIMIT", default=5)
_COOLOFF_MINUTES = env.int("CATALOG_LOGIN_COOLOFF_MINUTES", default=15)
if AXES_FAILURE_LIMIT < 1 or _COOLOFF_MINUTES < 1:
    raise ImproperlyConfigured(
        "CATALOG_LOGIN_FAILURE_LIMIT and CATALOG_LOGIN_COOLOFF_MINUTES must be positive."
    )
AXES_COOLOFF_TIME = timedelta(minutes=_COOLOFF_MINUTES)
# Attempts while locked are refused without being counted, so the lock ends when the page
# said it would (counting them would let an attacker keep it closed, and the owner too).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "catalog.admin.lockout.client_address"
# Its log lines name the username and address of each failure and lockout (never a password);
# no banner on every management command.
AXES_SENSITIVE_PARAMETERS: list[str] = []
AXES_VERBOSE = False
AXES_LOCKOUT_CALLABLE = "catalog.admin.lockout.lockout_response"
# A locked login is answered 429 (axes' default, named here for the page that answers it).
AXES_HTTP_RESPONSE_CODE = 429

# ------------------------------------------------------------------------------
# The API (Django REST framework, drf-spectacular)
# ------------------------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["catalog.api.rendering.LegacyJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "catalog.api.rendering.AlwaysJSON",
    "DEFAULT_AUTHENTICATION_CLASSES": ["catalog.api.auth.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["catalog.api.auth.CanReadImages"],
    "DEFAULT_THROTTLE_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "catalog.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "IMS image catalog: legacy image API (OpenStack Glance v1 / IMS v1.1)",
    "DESCRIPTION": "Listing, soft delete and membership reads of virtual-machine images, as "
    "Huawei Cloud IMS's deprecated OpenStack-native v1.1 API and OpenStack Glance v1 served it.",
    "VERSION": "1.1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    # /docs/ and /redoc/ load their scripts from the project's static files, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "PREPROCESSING_HOOKS": ["catalog.api.schema.legacy_endpoints"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "catalog.api.schema.health_check",
    ],
}

# ------------------------------------------------------------------------------
# The catalog
# ------------------------------------------------------------------------------

CATALOG_AUTH = env.str("CATALOG_AUTH", default="token")
if CATALOG_AUTH not in ("token", "none"):
    raise ImproperlyConfigured("CATALOG_AUTH must be 'token' or 'none'.")
CATALOG_DEFAULT_LIMIT = env.int("CATALOG_DEFAULT_LIMIT", default=25)
CATALOG_MAX_LIMIT = env.int("CATALOG_MAX_LIMIT", default=1000)
if not 0 < CATALOG_DEFAULT_LIMIT <= CATALOG_MAX_LIMIT:
    raise ImproperlyConfigured(
        "CATALOG_DEFAULT_LIMIT must be positive and at most CATALOG_MAX_LIMIT."
    )
CATALOG_READ_ROLES = env.list("CATALOG_READ_ROLES", default=["reader", "member", "admin"])
# Roles that may delete images through the API (an admin any image, others their project's);
# empty: the API is read-only.
CATALOG_WRITE_ROLES = [
    role.strip() for role in env.list("CATALOG_WRITE_ROLES", default=["member", "admin"])
]
# Glance put no limit on property- filters, but each one is a join the planner must order:
# 100 of them took PostgreSQL 4 s to plan. More than this is a 400
# (docs/api.md#deliberate-differences).
CATALOG_MAX_PROPERTY_FILTERS = env.int("CATALOG_MAX_PROPERTY_FILTERS", default=20)
CATALOG_MAINTENANCE = env.bool("CATALOG_MAINTENANCE", default=False)
CATALOG_PUBLIC_ENDPOINT = env.str("CATALOG_PUBLIC_ENDPOINT", default="").rstrip("/")

# ------------------------------------------------------------------------------
# The production server (imsproject/serve.py, `make serve`)
# ------------------------------------------------------------------------------

SERVER_BIND = env.str("BIND", default="127.0.0.1:8000")
SERVER_WORKERS = env.int("WORKERS", default=os.cpu_count() or 1)
# Seconds a connection has to send a request's headers (and may then idle between requests)
# before the server closes it, so stalled or dribbling clients cannot pile up.
SERVER_HEADER_READ_TIMEOUT = env.float("HEADER_READ_TIMEOUT", default=10)
if SERVER_WORKERS < 1 or SERVER_HEADER_READ_TIMEOUT <= 0:
    raise ImproperlyConfigured("WORKERS and HEADER_READ_TIMEOUT must be positive.")
