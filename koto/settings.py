"""Django settings for Koto.

Configuration comes from the environment (and a `.env` file beside `manage.py`, never
committed). DEBUG is off unless the environment says `KOTO_DEBUG=true`.
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _
from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent.parent
load_dotenv(BASE_DIR / ".env")


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("KOTO_DEBUG")
# Without a configured key each process gets a random one: sessions then do not survive a
# restart, which is safe for a command or a test. The web server refuses to start without
# one unless DEBUG is on (`koto/wsgi.py`): with several workers each would have its own key,
# and sign-ins and forms would fail at random. `make run` writes a persistent key to `.env`.
SECRET_KEY_CONFIGURED = bool(os.environ.get("KOTO_SECRET_KEY"))
SECRET_KEY = os.environ.get("KOTO_SECRET_KEY") or secrets.token_urlsafe(50)
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("KOTO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("KOTO_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    # first: its `changepassword` replaces django.contrib.auth's (audited)
    "koto.accounts.cli",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "ninja",
    "django_tasks_db",
    "koto.core",
    "koto.audit",
    "koto.organisations",
    "koto.accounts",
    "koto.clients",
    "koto.assessments",
    "koto.plans",
    "koto.guidance",
    "koto.referrals",
    "koto.offerings",
    "koto.placement",
    "koto.funding",
    "koto.insights",
    "koto.privacy",
    "koto.api",
    "koto.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "koto.core.middleware.NullCharacterMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "koto.accounts.middleware.ActiveMembershipMiddleware",
    "koto.core.middleware.DomainErrorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "koto.core.middleware.HtmxLoginRedirectMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "koto.urls"
WSGI_APPLICATION = "koto.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "koto" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "koto.accounts.context_processors.membership",
                "koto.referrals.context_processors.referrals",
            ],
        },
    },
]

# Django's, with the commonest widgets written without a template each (koto.core.widgets)
FORM_RENDERER = "koto.core.widgets.FormRenderer"

if not os.environ.get("DATABASE_URL"):
    (BASE_DIR / "var").mkdir(exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'var' / 'koto.sqlite3'}",
        conn_max_age=int(os.environ.get("KOTO_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Web requests run short queries: PostgreSQL's JIT compiled a task count for 347 ms of
    # a 913 ms query at national scale. Every server-side cursor here (`.iterator()`: the
    # compensation stream, exports) is read to the end, so plan it for all its rows, not the
    # first tenth (14.6 s against 0.1 s). docs/performance.md; KOTO_PG_OPTIONS overrides.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = os.environ.get(
        "KOTO_PG_OPTIONS", "-c jit=off -c cursor_tuple_fraction=1"
    )
    _prepare = os.environ.get("KOTO_PG_PREPARE_THRESHOLD", "").strip()
    if _prepare:
        # Opt-in: server-side binding, and each statement prepared on its connection once it
        # has run this many times, so PostgreSQL may reuse a generic plan instead of planning
        # it per request (docs/performance.md, item 13: why it is not the default).
        if not _prepare.isdigit():
            raise ImproperlyConfigured(
                f"KOTO_PG_PREPARE_THRESHOLD: give a whole number of runs, not {_prepare!r}"
            )
        DATABASES["default"]["OPTIONS"].update(
            server_side_binding=True, prepare_threshold=int(_prepare)
        )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "koto.accounts.backends.MembershipModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "clients:my_clients"
LOGOUT_REDIRECT_URL = "accounts:login"

# Login throttling (django-axes with `koto.accounts.throttling.LoginThrottle`), each limit
# over 15 minutes: 5 failures lock the username from that address, 30 lock the address
# whatever usernames it tries (password spraying), 20 lock the username from addresses its
# user has not signed in from (guessing from ever new addresses). docs/access-and-audit.md
AXES_FAILURE_LIMIT = int(os.environ.get("KOTO_LOGIN_FAILURE_LIMIT", "5"))
LOGIN_ADDRESS_FAILURE_LIMIT = int(os.environ.get("KOTO_LOGIN_ADDRESS_FAILURE_LIMIT", "30"))
LOGIN_USERNAME_FAILURE_LIMIT = int(os.environ.get("KOTO_LOGIN_USERNAME_FAILURE_LIMIT", "20"))
# Failed sign-ins naming no user are audited one by one up to this many from an address
# within the 15 minutes; the next one is audited saying that further ones are not.
LOGIN_UNKNOWN_USERNAME_AUDITS = 5
AXES_COOLOFF_TIME = 0.25  # hours
AXES_HANDLER = "koto.accounts.throttling.LoginThrottle"
# (what axes logs; the handler counts the three itself)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address", "username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
# django-axes keeps the username as typed (a password typed into it by mistake, say): not
# shown in the admin site, as Koto's own audit never records it
AXES_ENABLE_ADMIN = False

LANGUAGE_CODE = "fi"
LANGUAGES = [("fi", _("Finnish")), ("sv", _("Swedish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "koto" / "locale"]
TIME_ZONE = "Europe/Helsinki"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise expects it; collectstatic fills it
STATICFILES_DIRS = [BASE_DIR / "koto" / "static"]
# WhiteNoise serves the static files (also with DEBUG off); run `collectstatic` in production
# for compressed, cache-busting copies, otherwise the finders are used directly.
WHITENOISE_USE_FINDERS = True

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 8 * 60 * 60
SESSION_COOKIE_SECURE = env_bool("KOTO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
CSRF_COOKIE_HTTPONLY = True  # the pages send the token from the form or a meta tag, not JS
# Behind the organisation's HTTPS proxy (docs/operations.md): KOTO_PROXY_COUNT proxies
# in front, each adding the address it saw to X-Forwarded-For, and the proxy saying
# "https" in X-Forwarded-Proto. The client's address (audit records, sign-in throttling) is
# then the one the first proxy saw; with 0 (the default) the header is not trusted at all,
# as anyone could write it.
PROXY_COUNT = int(os.environ.get("KOTO_PROXY_COUNT", "0"))
if PROXY_COUNT:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Sign-in throttling counts failures by the same address the audit trail records (without
# django-ipware, axes reads REMOTE_ADDR only: behind a proxy, the proxy's for everyone), an
# IPv6 address by its /64 network.
AXES_CLIENT_IP_CALLABLE = "koto.accounts.throttling.throttled_address"
# HTTPS only, once a browser has seen it (sent on HTTPS answers only): a year where cookies
# are secure (the default with DEBUG off).
SECURE_HSTS_SECONDS = int(
    os.environ.get("KOTO_HSTS_SECONDS", "31536000" if SESSION_COOKIE_SECURE else "0")
)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Content Security Policy: scripts, styles, images and fonts from Koto itself only; the two
# printable pages' own <style> carries the request's nonce. An injected script or style (a
# slip in escaping) does not run, and no page can be framed or post a form elsewhere.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("KOTO_LOG_LEVEL", "WARNING")},
}

NINJA_PAGINATION_MAX_LIMIT = 200
