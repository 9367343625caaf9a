"""Django settings, read from the environment and secure by default.

DEBUG is on only under ``kizuna serve --dev`` (which sets KIZUNA_DEV=1). SQLite is the embedded default;
``DATABASE_URL`` selects PostgreSQL in production. Everything the node writes lives under KIZUNA_DATA_DIR.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import dj_database_url

from kizuna.ops.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


DATA_DIR = Path(os.environ.get("KIZUNA_DATA_DIR", Path.cwd() / "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    if os.environ.get("KIZUNA_SECRET_KEY"):
        return os.environ["KIZUNA_SECRET_KEY"]
    path = DATA_DIR / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("KIZUNA_DEV", False)
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("KIZUNA_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("KIZUNA_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    # Kizuna's apps first, so that their templates (e.g. the admin's banner) override Django's.
    "kizuna.core",
    "kizuna.directory",
    "kizuna.reports",
    "kizuna.practices",  # best-practice notes: the worked example of a labelled module (docs/adding-a-type.md)
    "kizuna.glossary",  # the office's terms in four languages; query expansion (docs/glossary.md)
    "kizuna.consultations",  # series, meetings, agendas, actions (issue 5 foundation)
    "kizuna.threats",
    "kizuna.threats.watch",  # sightings, watch filters, inbox (own models and migrations)
    "kizuna.threats.geo",
    "kizuna.threats.disinfo",  # disinformation incidents, pinned DISARM version (own model and migration)
    "kizuna.notifications",  # one inbox, e-mail and digests for every module
    "kizuna.federation",  # node identity, signing keys, signatures (issue 4 foundation)
    "kizuna.search",  # one label-safe search over every registered type (docs/search.md)
    "kizuna.demo",  # the demo scenario and `kizuna demo`, fed by the registry: after the domain apps
    "kizuna.web",
    "kizuna.ops",  # probes, metrics, logs; `kizuna backup` and `kizuna restore`
    "kizuna.jobs",  # the one job queue: leases, periodic jobs, `kizuna worker` (docs/operations.md)
    "django_tasks",
    "django_tasks_db",  # django-tasks' database backend: the queue's table
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_otp",
    "kizuna.directory.totp.TOTPDevicesConfig",  # django_otp.plugins.otp_totp, with a readable admin heading
]

# Background work (imports, sync, signing, reminders) goes through one queue in the database, run by `kizuna worker`.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "imports", "federation"]}}

MIDDLEWARE = [
    # First: the request id covers every later middleware's log lines, the metrics their time (docs/operations.md).
    "kizuna.ops.middleware.RequestIdMiddleware",
    "kizuna.ops.middleware.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "kizuna.web.middleware.SecurityHeadersMiddleware",
    "kizuna.web.middleware.UserLanguageMiddleware",
    "kizuna.web.middleware.LoginRequiredMiddleware",
]

ROOT_URLCONF = "kizuna.urls"
WSGI_APPLICATION = "kizuna.wsgi.application"

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
                "kizuna.web.context.node",
            ],
        },
    }
]

_default_sqlite = f"sqlite:///{DATA_DIR / 'kizuna.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(os.environ.get("DATABASE_URL", _default_sqlite), conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL for concurrent readers, a busy timeout instead of "database is locked", foreign keys enforced.
    # Django's backend, whose writers say when they wait for the write lock (kizuna/core/sqlite/turns.py).
    DATABASES["default"]["ENGINE"] = "kizuna.core.sqlite"
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        " PRAGMA busy_timeout=20000;",
    }
    # Kept open between requests as on PostgreSQL: opening a SQLite connection (and running the PRAGMAs above) and
    # closing it (a WAL checkpoint) cost ~2 ms per request, as much as serving a TAXII page of 1,000 objects.
    # Between requests a connection is in autocommit and holds no snapshot. Django's connections are per thread, so
    # gunicorn's threads (kizuna serve, gthread) never share one: each keeps its own, reused by its next requests.
    DATABASES["default"]["CONN_MAX_AGE"] = 60
    # ":memory:" named, not left out: pytest-django recognises an in-memory test database only by Django's own engine
    # name, and would otherwise give each xdist worker a file named after the real database.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3") if env_bool("KIZUNA_TEST_FILE_DB", False)
                                    else ":memory:"}
elif DATABASES["default"]["ENGINE"] in ("django.db.backends.postgresql", "django.db.backends.postgresql_psycopg2"):
    # PostgreSQL's JIT compiler off for Kizuna's sessions: it compiles a query whose estimated cost passes
    # jit_above_cost, and a first page that stops after 26 rows is estimated at the cost of walking the whole table.
    # Measured (benchmarks/bench_load.py, 455,000 objects): the first page of /api/v1/stix/objects ran in 0.1 ms and
    # spent 30 ms compiling 168 functions, on every request; beside a 200 MB import its p95 was 0.88-0.97 s. Kizuna's
    # queries are short reads and writes, which JIT never pays back. An ``options`` given in DATABASE_URL is kept.
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = f"{_options.get('options', '')} -c jit=off".strip()

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "directory.User"
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"
CSRF_FAILURE_VIEW = "kizuna.web.views.csrf_failure"
OTP_TOTP_ISSUER = "Kizuna"  # the name authenticator apps show beside the code

PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français"), ("ja", "日本語"), ("ko", "한국어")]
# Dates and times per language (kizuna/core/formats): 2026年12月10日(木) 16:00, jeudi 10 décembre 2026 16:00.
FORMAT_MODULE_PATH = ["kizuna.core.formats"]
# kizuna/labels is no Django app, so its catalog (the label engine's messages) is named here.
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "labels" / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns about a missing root; files come from the apps (finders)
WHITENOISE_USE_FINDERS = True  # serve straight from the apps' static folders; no collectstatic step needed
WHITENOISE_AUTOREFRESH = DEBUG

# Attachments live outside the web root and are served only by a view that checks the label.
MEDIA_ROOT = DATA_DIR / "attachments"
KIZUNA_ATTACHMENT_MAX_BYTES = int(os.environ.get("KIZUNA_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024))
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Bounded input (docs/security.md, "Input limits"): every JSON body, STIX bundle, TAXII envelope and peer page is
# scanned before it is parsed (kizuna.core.jsonguard). Deeper nesting, more objects or more bytes refuse the whole
# input (400 for depth, 413 for size); a longer string, or an object whose JSON is larger, rejects that object only.
KIZUNA_JSON_MAX_DEPTH = int(os.environ.get("KIZUNA_JSON_MAX_DEPTH", 100))
KIZUNA_JSON_MAX_STRING_BYTES = int(os.environ.get("KIZUNA_JSON_MAX_STRING_BYTES", 1024 * 1024))
KIZUNA_STIX_MAX_OBJECT_BYTES = int(os.environ.get("KIZUNA_STIX_MAX_OBJECT_BYTES", 2 * 1024 * 1024))
KIZUNA_STIX_MAX_BUNDLE_OBJECTS = int(os.environ.get("KIZUNA_STIX_MAX_BUNDLE_OBJECTS", 5_000_000))
KIZUNA_STIX_MAX_BUNDLE_BYTES = int(os.environ.get("KIZUNA_STIX_MAX_BUNDLE_BYTES", 4 * 1024 * 1024 * 1024))
KIZUNA_TAXII_MAX_ENVELOPE_OBJECTS = int(os.environ.get("KIZUNA_TAXII_MAX_ENVELOPE_OBJECTS", 10_000))
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# The highest classification this node may hold, per policy; items above it are refused.
KIZUNA_MAX_CLASSIFICATION = {"NATO": os.environ.get("KIZUNA_MAX_CLASSIFICATION", "RESTRICTED")}
KIZUNA_NODE_NAME = os.environ.get("KIZUNA_NODE_NAME", "NATO Liaison Office Tokyo")
# The node's name in other languages (issue 14), a JSON object: KIZUNA_NODE_NAMES='{"ja": "…", "ko": "…", "fr": "…"}'.
# Pages show the reader's; federation, the node card and STIX keep KIZUNA_NODE_NAME.
_DEFAULT_NODE_NAMES = {"ja": "NATO東京連絡事務所", "ko": "NATO 도쿄 연락사무소", "fr": "Bureau de liaison de l'OTAN à Tokyo"}
KIZUNA_NODE_NAMES: dict[str, str] = json.loads(os.environ.get("KIZUNA_NODE_NAMES") or "{}") or (
    _DEFAULT_NODE_NAMES if KIZUNA_NODE_NAME == "NATO Liaison Office Tokyo" else {})

# Login throttling: after this many failures for one username or address within the window, refuse for the window.
KIZUNA_LOGIN_MAX_FAILURES = int(os.environ.get("KIZUNA_LOGIN_MAX_FAILURES", 5))
KIZUNA_LOGIN_WINDOW_SECONDS = int(os.environ.get("KIZUNA_LOGIN_WINDOW_SECONDS", 900))

SECURE_COOKIES = env_bool("KIZUNA_COOKIE_SECURE", not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 8 * 3600
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env_bool("KIZUNA_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^(healthz|readyz|metrics)$"]  # probes and scrapers on the app port speak plain http
SECURE_HSTS_SECONDS = int(os.environ.get("KIZUNA_HSTS_SECONDS", 0))
KIZUNA_BEHIND_PROXY = env_bool("KIZUNA_BEHIND_PROXY", False)  # a reverse proxy of the node's own sets X-Forwarded-*
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if KIZUNA_BEHIND_PROXY else None

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

EMAIL_BACKEND = os.environ.get("KIZUNA_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
# The node's public address, for links in notification email (e.g. https://kizuna.example.org); empty = relative.
KIZUNA_BASE_URL = os.environ.get("KIZUNA_BASE_URL", "")

# Text for a terminal, or KIZUNA_LOG_FORMAT=json: one JSON object per line with the request id (kizuna.ops.logs).
LOGGING = logging_config(
    os.environ.get("KIZUNA_LOG_FORMAT", "text").strip().lower(), os.environ.get("KIZUNA_LOG_LEVEL", "WARNING")
)

# /metrics answers the node itself (loopback) and, when this is set, whoever presents it as a bearer token.
KIZUNA_METRICS_TOKEN = os.environ.get("KIZUNA_METRICS_TOKEN", "")
# Niceness of background work (kizuna worker, kizuna stix import): it yields the CPU to the web server's requests.
KIZUNA_BACKGROUND_NICE = max(0, min(19, int(os.environ.get("KIZUNA_BACKGROUND_NICE", 10))))
