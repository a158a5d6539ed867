"""Settings for meet, read from the environment in this one place.

Standalone (`./run`) needs no environment at all: SQLite in `.state/`, the in-memory channel
layer and no TURN server. Production switches by environment alone; see the README's table.
"""

from __future__ import annotations

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
    "accounts",
    "rooms",
    "signaling",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channel layer -----------------------------------------------------------------------------

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # Redis pub/sub (not RedisChannelLayer): a relay is one PUBLISH and a room broadcast
            # one PUBLISH whatever its size, received by one subscriber connection per process.
            # RedisChannelLayer spent about 3 ms of CPU per relayed message (four round trips
            # to send, more to receive) against 0.9 ms here, so one process could not carry
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
            "CONFIG": {"capacity": 1000, "expiry": 30},
        }
    }

# --- Cache -------------------------------------------------------------------------------------

# Rate limits live in the cache, so with Redis they hold across every server process.
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="meet"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Presence: each process marks its peers seen every PRESENCE_HEARTBEAT_SECONDS and ends peers
# unseen for PRESENCE_STALE_SECONDS (a killed worker never runs disconnect), so a dead peer
# leaves every roster within stale + heartbeat seconds (60 s by default; the bound is 90 s).
PRESENCE_HEARTBEAT_SECONDS = env.float("PRESENCE_HEARTBEAT_SECONDS", default=15.0)
PRESENCE_STALE_SECONDS = env.float("PRESENCE_STALE_SECONDS", default=45.0)
RESUME_WINDOW_SECONDS = env.float("RESUME_WINDOW_SECONDS", default=60.0)

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

# --- Internationalisation ----------------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
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
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=HTTPS)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=HTTPS)
if env.bool("DJANGO_BEHIND_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

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

# --- Logging -----------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.channels.server": {"level": "WARNING"}},
}
