"""Settings: one base, every value from the environment.

DATABASE_URL  sqlite:///path (default: ./chainstore.sqlite3) or postgres://...
SECRET_KEY    required when DEBUG is off
DEBUG         "1" to enable debug
ALLOWED_HOSTS comma-separated
TIME_ZONE     default Asia/Shanghai (the chain's home timezone; sites carry their own)
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("CHAINSTORE_DATA_DIR", Path.cwd()))

DEBUG = os.environ.get("DEBUG", "0") == "1"
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and os.environ.get("CHAINSTORE_REQUIRE_SECRET") == "1":
        raise RuntimeError("SECRET_KEY must be set in production")
    # Development fallback: a per-installation key kept next to the data, never in the repo.
    key_file = DATA_DIR / ".chainstore-secret"
    if not key_file.exists():
        from django.core.management.utils import get_random_secret_key

        DATA_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(get_random_secret_key())
    SECRET_KEY = key_file.read_text().strip()

ALLOWED_HOSTS = [
    h for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",") if h
]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "chainstore.core",
    "chainstore.accounts",
    "chainstore.catalog",
    "chainstore.sites",
    "chainstore.inventory",
    "chainstore.counts",
    "chainstore.pos",
    "chainstore.fulfilment",
    "chainstore.transfers",
    "chainstore.integrations",
    "chainstore.demo",
    "chainstore.web",
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
]

ROOT_URLCONF = "chainstore.config.urls"
WSGI_APPLICATION = "chainstore.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "chainstore.web.context.navigation",
            ],
        },
    }
]

DEFAULT_SQLITE = f"sqlite:///{DATA_DIR / 'chainstore.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", DEFAULT_SQLITE), conn_max_age=60, conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + IMMEDIATE transactions + busy timeout: concurrent writers queue instead of
    # failing with "database is locked"; threads of one process queue in-process first
    # (chainstore.core.sqlite, see docs/architecture.md).
    DATABASES["default"]["ENGINE"] = "chainstore.core.sqlite"
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": (
            "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA busy_timeout=30000;"
            "PRAGMA foreign_keys=ON;"
        ),
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", DATA_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "web" / "vendor_static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the cookie-less meta tag; kept default
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

CHAINSTORE_CURRENCY = "CNY"

# Carrier adapters by code (see chainstore.integrations.carriers). Add real carriers (SF
# Express, JD Logistics, ...) as dotted paths; their webhook secrets come from the
# environment: CHAINSTORE_CARRIER_SECRET_<CODE> (e.g. CHAINSTORE_CARRIER_SECRET_SIM).
CHAINSTORE_CARRIERS = {"sim": "chainstore.integrations.carriers.simulated.SimulatedCarrier"}
CHAINSTORE_CARRIER_SECRETS = {
    key.removeprefix("CHAINSTORE_CARRIER_SECRET_").lower(): value
    for key, value in os.environ.items()
    if key.startswith("CHAINSTORE_CARRIER_SECRET_") and value
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
