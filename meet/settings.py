"""Settings for meet, read from the environment in this one place.

Standalone (`./run`) needs no environment at all: SQLite in `.state/`, the in-memory channel
layer and no TURN server. Production switches by environment alone; see the README's table.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
STATE_DIR = Path(environ.Env().str("MEET_STATE_DIR", default=str(BASE_DIR / ".state")))

env = environ.Env()

# --- Core --------------------------------------------------------------------------------------

DEBUG = env.bool("DJANGO_DEBUG", default=False)

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if DEBUG:
        # A development key is tolerable only with DEBUG on, where nothing is meant to be safe.
        SECRET_KEY = "django-insecure-development-key-never-use-in-production"
    else:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off (./run makes one for you)."
        )

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    # Content-Security-Policy on every response (CONTENT_SECURITY_POLICY below).
    "csp",
    # Failed logins and lockouts (accounts/throttle.py); its admin lets staff lift a lockout.
    "axes",
    "accounts",
    "rooms",
    "signaling",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outside WhiteNoise, so static files and every page get the same headers.
    "csp.middleware.CSPMiddleware",
    "meet.headers.security_headers_middleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language: the visitor's choice (the language cookie set by /i18n/setlang/), else the
    # browser's Accept-Language, else LANGUAGE_CODE. After sessions, before CommonMiddleware.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as axes asks: it turns a lockout noticed during the view into the 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "meet.urls"
ASGI_APPLICATION = "meet.asgi.application"
WSGI_APPLICATION = None

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
                # LANGUAGE_CODE and LANGUAGES: the page's lang attribute and the language picker.
                "django.template.context_processors.i18n",
                # signup_policy: pages link to signup unless SIGNUP is closed.
                "accounts.context_processors.signup",
            ],
        },
    },
]

# --- Database ----------------------------------------------------------------------------------

DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{STATE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the async consumer's threads and HTTP requests write side by side.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    )
    # Transactions take the write lock when they begin: a deferred one that reads and then
    # writes fails at once with "database is locked" when another process (a second daphne)
    # writes meanwhile, instead of waiting for the busy timeout.
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
    # Kept open between calls: opening one runs the PRAGMAs above, which cost more than the
    # admission's own queries when every join opened a connection. (Under ASGI each async
    # context keeps its own; the garbage collector closes them. SQLite has no connection limit
    # to run into, and no pool in Django.)
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A pool, not persistent connections. Under ASGI a persistent connection belongs to the
    # async context that opened it (a page request, a socket), not to a thread: every page load
    # and every join opened a PostgreSQL connection of its own, and only the garbage collector
    # closed it (a join storm made about one a join; Django's documentation says to disable
    # persistent connections under ASGI). Each database call now takes a connection from the
    # pool and gives it back when it ends. The pool checks a connection before handing it out,
    # so the first call after a database restart does not fail; meet's backend does that check
    # without a round trip to the server (meet/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "meet.postgresql"
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=2),
        # The most a process uses at once: the worker threads of admissions on PostgreSQL
        # (asyncio's default executor: cores + 4, at most 32), the database thread and spares.
        "max_size": env.int(
            "DATABASE_POOL_MAX_SIZE", default=min(32, (os.cpu_count() or 1) + 4) + 4
        ),
        # A call that finds every connection busy for this long fails rather than hang.
        "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10.0),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channel layer -----------------------------------------------------------------------------

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # Redis pub/sub (not RedisChannelLayer): a relay is one PUBLISH and a room broadcast
            # one PUBLISH whatever its size, received by one subscriber connection per process.
            # RedisChannelLayer spent about 3 ms of CPU per relayed message (four round trips
            # to send, more to receive) against 0.8 ms here, so one process could not carry
            # 500 relays a second. What pub/sub gives up is a queue for a channel nobody
            # listens to, which signaling does not need: such a peer is gone, and the
            # sweep tells the room. See docs/protocol.md and docs/performance.md.
            "BACKEND": "signaling.layers.RedisPubSubChannelLayer",
            "CONFIG": {
                # redis-py 8 reads with a 5 s socket timeout and caps a pool at 100
                # connections by default; both are set deliberately here.
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_timeout": 30,
                        "max_connections": env.int("CHANNEL_LAYER_MAX_CONNECTIONS", default=1000),
                    }
                ],
                "prefix": env.str("CHANNEL_LAYER_PREFIX", default="meet"),
            },
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            # The project's subclass sweeps expired messages once a second, not on every message
            # (see signaling/layers.py).
            "BACKEND": "signaling.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": env.int("CHANNEL_LAYER_CAPACITY", default=1000), "expiry": 30},
        }
    }

# --- Cache -------------------------------------------------------------------------------------

# Rate limits live in the cache, so with Redis they hold across every server process.
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's Redis cache with one connection pool per process: see meet/cache.py.
            "BACKEND": "meet.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="meet"),
        }
    }
else:
    # The cache holds every visitor's session (SESSION_ENGINE below) and the rate limits; at
    # the default 300 entries a join storm of 1,000 evicts the sessions its pages just cached,
    # and every admission reads its session from the database again (issue #14). 20,000 small
    # entries are a few megabytes.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "OPTIONS": {"MAX_ENTRIES": env.int("LOCAL_CACHE_MAX_ENTRIES", default=20_000)},
        }
    }

# Presence: each process marks its peers seen every PRESENCE_HEARTBEAT_SECONDS and ends peers
# unseen for PRESENCE_STALE_SECONDS (a killed worker never runs disconnect), so a dead peer
# leaves every roster within stale + heartbeat seconds (60 s by default; the bound is 90 s).
PRESENCE_HEARTBEAT_SECONDS = env.float("PRESENCE_HEARTBEAT_SECONDS", default=15.0)
PRESENCE_STALE_SECONDS = env.float("PRESENCE_STALE_SECONDS", default=45.0)
RESUME_WINDOW_SECONDS = env.float("RESUME_WINDOW_SECONDS", default=60.0)
# Sockets one user may hold in one room (a second tab, or a reconnect the server has not yet
# noticed as a drop); without a cap one user's tabs could take every seat. A resume replacing
# its own older socket does not count twice.
MAX_SOCKETS_PER_USER = env.int("MAX_SOCKETS_PER_USER", default=2)
if MAX_SOCKETS_PER_USER < 1:
    raise ImproperlyConfigured("MAX_SOCKETS_PER_USER must be at least 1.")
# Chat has its own rate per socket, below the flood guard's: every chat is a stored row and a
# broadcast to the room. A burst of CHAT_RATE_BURST messages, then CHAT_RATE_PER_SECOND.
CHAT_RATE_BURST = env.int("CHAT_RATE_BURST", default=5)
CHAT_RATE_PER_SECOND = env.float("CHAT_RATE_PER_SECOND", default=1.0)
# A WebSocket client that does not read is dropped once this many bytes of frames wait unsent
# for it, instead of the server buffering for it without bound (signaling/backpressure.py).
# 0 turns the cap off.
SOCKET_SEND_BUFFER_MAX_BYTES = env.int("SOCKET_SEND_BUFFER_MAX_BYTES", default=4 * 1024 * 1024)
# A kicked user may not rejoin the room for this long, unless its owner lets them back in from
# the settings page; without it a removed person clicks Join and is back within seconds.
KICK_COOLDOWN_SECONDS = env.int("KICK_COOLDOWN_SECONDS", default=300)

# --- Rooms -------------------------------------------------------------------------------------

# Open rooms one user may own at a time (staff are exempt; 0 means no limit), so a script or a
# stuck button cannot fill the database with rooms.
MAX_ROOMS_PER_USER = env.int("MAX_ROOMS_PER_USER", default=50)
# Chat older than this many days is deleted (once a day, by the first message sent, or by
# `manage.py purge_chat`), so the server does not keep conversations forever; 0 keeps them.
CHAT_RETENTION_DAYS = env.int("CHAT_RETENTION_DAYS", default=90)
# Call history (who was in which room, and when) is kept this many days after each call ends;
# 0 keeps it forever. Purged with chat, daily (rooms.services.history_purge_if_due).
PARTICIPANT_RETENTION_DAYS = env.int("PARTICIPANT_RETENTION_DAYS", default=30)
# The moderation audit log (who kicked, banned, locked, admitted... whom) is kept this many days;
# 0 keeps it forever. Longer than chat by default: it is what an admin reads after a complaint.
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=365)

# --- Guests and the lobby (issue #12) ----------------------------------------------------------
# A knock nobody answers ends after this many seconds; the knocker is told and may knock again.
LOBBY_KNOCK_TIMEOUT_SECONDS = env.int("LOBBY_KNOCK_TIMEOUT_SECONDS", default=600)
# Guest entries (a name given with an invite link) one client address may make per window.
GUEST_RATE_LIMIT_REQUESTS = env.int("GUEST_RATE_LIMIT_REQUESTS", default=10)
GUEST_RATE_LIMIT_WINDOW = env.int("GUEST_RATE_LIMIT_WINDOW", default=3600)
# A guest's TURN credentials live this long (capped by TURN_TTL) and are renewed only while the
# guest is in the call, so they end soon after the call does.
GUEST_TURN_TTL = env.int("GUEST_TURN_TTL", default=600)

# --- Accounts ----------------------------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Axes' backend comes first: it refuses a locked-out login before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Brute-force protection (accounts/throttle.py): LOGIN_FAILURE_LIMIT wrong passwords for one
# account from one address, or LOGIN_ADDRESS_FAILURE_LIMIT from one address over all accounts,
# lock that out for LOGIN_COOLOFF_MINUTES after the last try (HTTP 429). Stored in the database,
# so the counts hold across processes.
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_ADDRESS_FAILURE_LIMIT = env.int("LOGIN_ADDRESS_FAILURE_LIMIT", default=20)
LOGIN_COOLOFF_MINUTES = env.int("LOGIN_COOLOFF_MINUTES", default=15)
if LOGIN_FAILURE_LIMIT < 1 or LOGIN_ADDRESS_FAILURE_LIMIT < 1 or LOGIN_COOLOFF_MINUTES < 1:
    raise ImproperlyConfigured(
        "LOGIN_FAILURE_LIMIT, LOGIN_ADDRESS_FAILURE_LIMIT and LOGIN_COOLOFF_MINUTES must be "
        "at least 1."
    )
AXES_HANDLER = "accounts.throttle.LoginAttemptHandler"
# The handler reads these two counters in this order: account and address, then address alone.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_FAILURE_LIMIT = "accounts.throttle.login_failure_limit"
AXES_COOLOFF_TIME = "accounts.throttle.login_cool_off"
AXES_LOCKOUT_CALLABLE = "accounts.throttle.login_locked_out"
AXES_CLIENT_IP_CALLABLE = "accounts.throttle.client_address"
# Failures are not forgotten on a successful login: otherwise logging into one's own account
# between tries would reset an address's count and let password spraying go on for ever.
AXES_RESET_ON_SUCCESS = False
# Axes' own access log would add a row per login; failures and lockouts are what matter here.
AXES_DISABLE_ACCESS_LOG = True

# Who may create an account: "open" (anyone), "invite" (only with a room's current invite
# link) or "closed" (the administrator creates accounts). See accounts/signup.py.
SIGNUP = env.str("SIGNUP", default="open")
if SIGNUP not in ("open", "invite", "closed"):
    raise ImproperlyConfigured(f"SIGNUP must be one of open, invite, closed (not {SIGNUP!r}).")
# Accounts one client address may create per window (seconds); more get HTTP 429.
SIGNUP_RATE_LIMIT_REQUESTS = env.int("SIGNUP_RATE_LIMIT_REQUESTS", default=5)
SIGNUP_RATE_LIMIT_WINDOW = env.int("SIGNUP_RATE_LIMIT_WINDOW", default=3600)

# --- Internationalisation ----------------------------------------------------------------------

# Pages, forms, messages and the room page's script (the JavaScript catalog at /jsi18n/) come in
# these languages, each named in its own: LocaleMiddleware picks the one the visitor chose with
# the language picker (Django's set_language view, remembered in the language cookie), else the
# best match for the browser's Accept-Language, else English. Signaling sockets choose the same
# way (signaling/i18n.py). The catalogs are locale/<code>/LC_MESSAGES/django.po and djangojs.po,
# committed with their compiled .mo files; see the README's "Languages".
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
# A choice made with the picker outlasts the browser session, as a preference should.
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
LANGUAGE_COOKIE_SAMESITE = "Lax"
LANGUAGE_COOKIE_HTTPONLY = True
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_TZ = True

# --- Static files ------------------------------------------------------------------------------

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
# Test servers serve static files straight from the source folders (no collectstatic step).
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env.bool("DJANGO_STATIC_MANIFEST", default=True)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- HTTPS and security ------------------------------------------------------------------------

# Production runs behind TLS; ./run on http://localhost turns this off with DJANGO_HTTPS=false.
HTTPS = env.bool("DJANGO_HTTPS", default=not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
# The health check answers on plain HTTP too: a load balancer or a supervisor probes a worker on
# its own loopback port, where nothing but the proxy terminates TLS.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
LANGUAGE_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=HTTPS)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=HTTPS)
if env.bool("DJANGO_BEHIND_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
# Sessions are read through the cache (Redis when REDIS_URL is set) and kept in the database:
# every page and every signaling join reads the session, and the cache answers that read.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
X_FRAME_OPTIONS = "DENY"
# Every page may load and connect only to its own origin: 'self' also matches ws:/wss: on the
# same host and port (CSP 3; Chromium, Firefox and Safari all do), which is where the signaling
# socket lives. No inline or foreign script or style, no plugins, no framing, forms post only
# here. Video plays from MediaStreams (srcObject), which CSP does not govern, so media-src
# needs no blob: or mediastream:. A received file is saved, never rendered (docs/client.md).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# --- TURN and ICE ------------------------------------------------------------------------------

# Several comma-separated secrets allow rotation: the first signs, coturn accepts all of them.
TURN_SECRETS = [s for s in env.list("TURN_SECRET", default=[]) if s]
TURN_URLS = env.list("TURN_URLS", default=[])
TURN_TTL = env.int("TURN_TTL", default=3600)
# Each user may fetch TURN credentials this many times per window (seconds); see docs/turn.md.
TURN_RATE_LIMIT_REQUESTS = env.int("TURN_RATE_LIMIT_REQUESTS", default=30)
TURN_RATE_LIMIT_WINDOW = env.int("TURN_RATE_LIMIT_WINDOW", default=300)
STUN_URLS = env.list("STUN_URLS", default=[])
ICE_TRANSPORT_POLICY = env.str("ICE_TRANSPORT_POLICY", default="all")
if ICE_TRANSPORT_POLICY not in ("all", "relay"):
    raise ImproperlyConfigured("ICE_TRANSPORT_POLICY must be 'all' or 'relay'.")

# --- SFU (Janus) -------------------------------------------------------------------------------

# Janus nodes meet's server talks to over their WebSocket API (never the browsers). Without any,
# every call is a peer-to-peer mesh. See deploy/janus/ for the configuration these assume.
JANUS_URLS = env.list("JANUS_URLS", default=[])
JANUS_API_SECRET = env.str("JANUS_API_SECRET", default="")
JANUS_ADMIN_KEY = env.str("JANUS_ADMIN_KEY", default="")
# Rooms in "auto" mode move to the SFU when a call would grow past this many people.
SFU_THRESHOLD = env.int("SFU_THRESHOLD", default=4)
if JANUS_URLS and not (JANUS_API_SECRET and JANUS_ADMIN_KEY):
    raise ImproperlyConfigured(
        "JANUS_URLS needs JANUS_API_SECRET and JANUS_ADMIN_KEY (deploy/janus/README.md)."
    )
# Each SFU call's VideoRoom: at most this many publishers (a screen share is a second one).
SFU_MAX_PUBLISHERS = env.int("SFU_MAX_PUBLISHERS", default=64)
# The cap Janus puts on each publisher's video (bits per second, over all simulcast layers).
SFU_PUBLISHER_BITRATE = env.int("SFU_PUBLISHER_BITRATE", default=1_200_000)
# How many remote videos a browser in an SFU call receives at once (last-N); the others are
# shown as their name and picture until they speak or are pinned.
SFU_LAST_N = env.int("SFU_LAST_N", default=9)
# After Janus dies, how long peers keep trying to rejoin it before giving up.
SFU_RECOVERY_SECONDS = env.int("SFU_RECOVERY_SECONDS", default=60)
if SFU_THRESHOLD < 2:
    raise ImproperlyConfigured("SFU_THRESHOLD must be 2 or more.")

# --- Metrics -----------------------------------------------------------------------------------

# /metrics answers Prometheus only when this is set, and only to "Authorization: Bearer <token>";
# otherwise it is an ordinary 404. Like the health check it is exempt from the HTTPS redirect:
# Prometheus scrapes each worker on its own loopback port, never through the proxy.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# --- Logging -----------------------------------------------------------------------------------

# "plain" lines for a terminal, or "json": one JSON object per line for a log collector.
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json (not {LOG_FORMAT!r}).")
if LOG_FORMAT == "json":
    # Python writes its warnings to stderr as plain text; through logging they are JSON too,
    # so that every line of the output parses.
    logging.captureWarnings(True)

# Invite and resume tokens travel in query strings: every line leaves with its URLs' query
# values redacted, and the access log (logger meet.access, at INFO) is meet's own, not daphne's,
# which writes URLs whole (see meet/logs.py). RedactSecrets also blanks extra fields named like
# secrets, SDP or ICE candidates, in case a log call ever passes one.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "meet.logs.JsonLinesFormatter"},
    },
    "filters": {
        "redact_query_values": {"()": "meet.logs.RedactQueryValues"},
        "redact_secrets": {"()": "meet.logs.RedactSecrets"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["redact_query_values", "redact_secrets"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.channels.server": {"level": "WARNING"}},
}
