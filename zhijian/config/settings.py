"""Settings: one module, driven by environment variables.

Profiles (ZHIJIAN_PROFILE):
- "demo" (default): DEBUG on, SQLite file in the working directory, inline outbox.
- "production": DEBUG off, secure cookies, HSTS, SSL redirect; SECRET_KEY and
  ALLOWED_HOSTS must come from the environment. Passes `zhijian check --deploy`.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
PROFILE = os.environ.get("ZHIJIAN_PROFILE", "demo")
PRODUCTION = PROFILE == "production"


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("ZHIJIAN_DEBUG", not PRODUCTION)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set in the production profile.")
    SECRET_KEY = "demo-only-secret-key-not-for-production-use-0123456789abcdef"  # noqa: S105
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h] or (
    [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver", "[::1]"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set in the production profile.")
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "drf_standardized_errors",
    "django_htmx",
    "zhijian.core",
    "zhijian.accounts",
    "zhijian.registry",
    "zhijian.inspections",
    "zhijian.sampling",
    "zhijian.reports",
    "zhijian.procurement",
    "zhijian.traceability",
    "zhijian.recalls",
    "zhijian.credit",
    "zhijian.portal",
    "zhijian.web",
    "zhijian.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "zhijian.core.middleware.RequestContextMiddleware",
]

ROOT_URLCONF = "zhijian.config.urls"
WSGI_APPLICATION = "zhijian.config.wsgi.application"

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
                "django.template.context_processors.i18n",
                "zhijian.web.context.navigation",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{Path.cwd() / 'zhijian.sqlite3'}"),
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + IMMEDIATE: concurrent readers, one writer at a time. IMMEDIATE also gives the
    # audit hash chain its single-writer order on SQLite.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("ZHIJIAN_TEST_SQLITE") or None}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "portal:home"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
# The catalogue lives at the repository root (locale/zh_Hans/LC_MESSAGES/django.po).
LOCALE_PATHS = [BASE_DIR.parent / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", Path.cwd() / "staticfiles"))
# The project's own and vendored assets live in zhijian/static (no app owns them); the
# finders serve them in development and tests, `collectstatic` gathers them for production.
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", Path.cwd() / "media"))
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "zhijian.core.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_standardized_errors.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "drf_standardized_errors.handler.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"public": "600/min"},
}
DRF_STANDARDIZED_ERRORS = {"ENABLE_IN_DEBUG_FOR_UNHANDLED_EXCEPTIONS": True}
SPECTACULAR_SETTINGS = {
    "TITLE": "Zhijian API",
    "DESCRIPTION": "Comprehensive quality supervision platform (质监). Registers, audit "
    "trail and public data of the province.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ValidationErrorEnum": "drf_standardized_errors.openapi_serializers.ValidationErrorEnum.choices",
        "ClientErrorEnum": "drf_standardized_errors.openapi_serializers.ClientErrorEnum.choices",
        "ServerErrorEnum": "drf_standardized_errors.openapi_serializers.ServerErrorEnum.choices",
        "ErrorCode401Enum": "drf_standardized_errors.openapi_serializers.ErrorCode401Enum.choices",
        "ErrorCode403Enum": "drf_standardized_errors.openapi_serializers.ErrorCode403Enum.choices",
        "ErrorCode404Enum": "drf_standardized_errors.openapi_serializers.ErrorCode404Enum.choices",
        "ErrorCode405Enum": "drf_standardized_errors.openapi_serializers.ErrorCode405Enum.choices",
        "ErrorCode406Enum": "drf_standardized_errors.openapi_serializers.ErrorCode406Enum.choices",
        "ErrorCode415Enum": "drf_standardized_errors.openapi_serializers.ErrorCode415Enum.choices",
        "ErrorCode429Enum": "drf_standardized_errors.openapi_serializers.ErrorCode429Enum.choices",
        "ErrorCode500Enum": "drf_standardized_errors.openapi_serializers.ErrorCode500Enum.choices",
        # Two choice sets share the field name "status".
        "EntityStatusEnum": "zhijian.registry.choices.EntityStatus",
        "LabStatusEnum": "zhijian.registry.choices.LabStatus",
    },
    "POSTPROCESSING_HOOKS": ["drf_standardized_errors.openapi_hooks.postprocess_schema_enums"],
}

# Celery and the outbox. Without a broker the outbox is drained inline after each commit;
# with CELERY_BROKER_URL set, workers drain it (see docs/operations.md).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
ZHIJIAN_OUTBOX_MODE = os.environ.get(
    "ZHIJIAN_OUTBOX_MODE", "celery" if CELERY_BROKER_URL else "inline"
)
# A write must not wait for a broker that is down: one quick retry, then the drain is left
# to the next commit, a starting worker or beat (the events are safe in the outbox).
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
# With `celery -A zhijian beat`: drain what a lost broker message left behind, and sign
# the audit head hourly (docs/events.md, docs/audit.md).
CELERY_BEAT_SCHEDULE = {
    "outbox-drain": {"task": "zhijian.core.tasks.outbox_drain_task", "schedule": 60.0},
    "audit-checkpoint": {"task": "zhijian.core.tasks.audit_checkpoint_task", "schedule": 3600.0},
    "inspection-results": {"task": "inspections.results_publish_due_task", "schedule": 3600.0},
    "sampling-results": {"task": "sampling.samples_publish_due_task", "schedule": 3600.0},
    "supplier-standing": {"task": "procurement.suppliers_rerate_task", "schedule": 86400.0},
    # Nightly re-rating of every entity's credit class (records expire without an event).
    "credit-rerate": {"task": "credit.ratings_rerate_task", "schedule": 86400.0},
    "credit-blacklist-expire": {"task": "credit.blacklist_expire_task", "schedule": 86400.0},
}

# Audit checkpoints are signed with an Ed25519 key. In production the key comes from a
# file (ZHIJIAN_AUDIT_KEY_FILE, PEM, PKCS#8); the demo generates one under the data dir.
ZHIJIAN_DATA_DIR = Path(os.environ.get("ZHIJIAN_DATA_DIR", Path.cwd() / "var"))
ZHIJIAN_AUDIT_KEY_FILE = Path(
    os.environ.get("ZHIJIAN_AUDIT_KEY_FILE", ZHIJIAN_DATA_DIR / "audit-checkpoint-key.pem")
)
# Private keys the platform holds on a lab's behalf (custody "platform", said on every report
# they sign); a lab that holds its own key never gives it to the platform.
ZHIJIAN_LAB_KEY_DIR = Path(os.environ.get("ZHIJIAN_LAB_KEY_DIR", ZHIJIAN_DATA_DIR / "lab-keys"))
# Largest EPCIS capture document or event accepted (bytes); larger ones get 413.
ZHIJIAN_EPCIS_MAX_BYTES = int(os.environ.get("ZHIJIAN_EPCIS_MAX_BYTES", str(20 * 1024 * 1024)))
# The public address printed in report QR codes (/verify/<number>/).
ZHIJIAN_PUBLIC_URL = os.environ.get("ZHIJIAN_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
ZHIJIAN_AUDIT_CHECKPOINT_EVERY = int(os.environ.get("ZHIJIAN_AUDIT_CHECKPOINT_EVERY", "1000"))

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 3600
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    if env_bool("ZHIJIAN_BEHIND_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

ZHIJIAN_SITE_NAME = _("Zhijian quality supervision platform")
