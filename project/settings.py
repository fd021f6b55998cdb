"""Duplex settings, configured from the environment (read, and the Redis
clients' options built, by ``project.config``).

Every variable is listed with its default in README.md ("Configuration").
Unset, the site runs for development: SQLite, the in-memory channel layer,
DEBUG on. Production sets DEBUG=0, SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL
and REDIS_URL, or REDIS_SENTINELS and REDIS_SENTINEL_MASTER for a Redis with
failover (see docs/deploy.md).
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from project.config import (  # noqa: F401 (the two REDIS_ names are settings)
    REDIS_HEALTH_CHECK_SECONDS,
    REDIS_SENTINEL_TIMEOUTS,
    env_bool,
    env_float,
    env_int,
    env_list,
    redis_channel_layer,
    redis_resilience,
    sentinel_address,
)

BASE_DIR = Path(__file__).resolve().parent.parent


DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "duplex-development-only-key-never-use-in-production-0123456789"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "realtime",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "realtime.core.http_guard.reject_nul",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "project.urls"
ASGI_APPLICATION = "project.asgi.application"

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
                "realtime.context_processors.site",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        # Kept, not reopened per query: every socket's database work passes
        # through one thread per process, and a new PostgreSQL connection per
        # call was the largest cost of a crowd's handshakes and joins.
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,  # a connection a restart broke is replaced
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The same backend, health-checking a kept connection at most once a
    # second instead of before every database call of every socket.
    DATABASES["default"]["ENGINE"] = "realtime.core.postgresql"
    # PostgreSQL on another machine can vanish without a word (a partition, a
    # switch that died): a query then waits minutes for the kernel to give
    # up, holding the one thread all of a process' database work runs on, and
    # its sockets' frames pile up. Fail in seconds instead, so sockets answer
    # "unavailable": a new connection after DB_CONNECT_TIMEOUT, an open one
    # once data goes unacknowledged for DB_TCP_USER_TIMEOUT (keepalives cover
    # a connection waiting for an answer). Options in DATABASE_URL win.
    DATABASES["default"]["OPTIONS"] = {
        "connect_timeout": env_int("DB_CONNECT_TIMEOUT", 2),  # libpq's least
        "tcp_user_timeout": env_int("DB_TCP_USER_TIMEOUT", 3) * 1000,
        "keepalives": 1,
        "keepalives_idle": 2,
        "keepalives_interval": 1,
        "keepalives_count": 3,
        **DATABASES["default"].get("OPTIONS", {}),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Channel layer and cache: Redis when REDIS_URL is set (several processes),
# in-process otherwise (one process only). REDIS_URL may list several
# servers, comma-separated: channels-redis shards channels across them.
REDIS_URLS = env_list("REDIS_URL")
# Or Redis with Sentinel failover: REDIS_SENTINELS lists the sentinels
# (host:port, comma-separated) and REDIS_SENTINEL_MASTER names the master they
# watch; every client asks them where the master is on each new connection.
REDIS_SENTINELS = [sentinel_address(item) for item in env_list("REDIS_SENTINELS")]
REDIS_SENTINEL_MASTER = os.environ.get("REDIS_SENTINEL_MASTER", "").strip()
if bool(REDIS_SENTINELS) != bool(REDIS_SENTINEL_MASTER):
    raise ImproperlyConfigured(
        "REDIS_SENTINELS and REDIS_SENTINEL_MASTER go together: set both or neither."
    )
if REDIS_SENTINELS and REDIS_URLS:
    raise ImproperlyConfigured(
        "Set REDIS_URL or REDIS_SENTINELS (with REDIS_SENTINEL_MASTER), not both."
    )
# The cache and presence on servers of their own, so the layer's first server
# does not carry everything. Unset: the layer's first server, or the master.
REDIS_CACHE_URL = os.environ.get("REDIS_CACHE_URL", "").strip()
REDIS_PRESENCE_URL = os.environ.get("REDIS_PRESENCE_URL", "").strip()
# For presence's clients: asyncio for the sockets, synchronous for the
# database thread's reads (realtime/core/presence.py, ThreadReader).
REDIS_ASYNC_OPTIONS = redis_resilience(for_asyncio=True)
REDIS_SYNC_OPTIONS = redis_resilience(for_asyncio=False)
# Presence's connection pool in each process: its size, and how long a burst
# waits for a free connection before a call fails.
PRESENCE_POOL_SIZE = env_int("DUPLEX_PRESENCE_POOL_SIZE", 50)
PRESENCE_POOL_TIMEOUT = float(os.environ.get("DUPLEX_PRESENCE_POOL_TIMEOUT") or 10)


REDIS_PREFIX = os.environ.get("REDIS_PREFIX", "duplex")
# Every socket's session and flood check passes through the cache, on the one
# thread of database work: a Redis that stopped answering holds it at most
# this long, once (realtime/core/breaker.py).
CACHE_TIMEOUTS = {"socket_timeout": 2, "socket_connect_timeout": 1}
CACHE_OPTIONS = {**CACHE_TIMEOUTS, **REDIS_SYNC_OPTIONS}
if REDIS_URLS or REDIS_SENTINELS:
    CHANNEL_LAYERS = {
        "default": redis_channel_layer(
            REDIS_URLS,
            REDIS_PREFIX,
            sentinels=REDIS_SENTINELS,
            master=REDIS_SENTINEL_MASTER,
        )
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": 100_000, "expiry": 60},
        }
    }
if REDIS_CACHE_URL or REDIS_URLS:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_CACHE_URL or REDIS_URLS[0],
            # One pool per process, not per socket (realtime/core/cachepool.py).
            "OPTIONS": {
                **CACHE_OPTIONS,
                "pool_class": "realtime.core.cachepool.SharedConnectionPool",
            },
            "KEY_PREFIX": REDIS_PREFIX,
        }
    }
elif REDIS_SENTINELS:
    CACHES = {
        "default": {
            "BACKEND": "realtime.core.sentinel.SentinelRedisCache",
            "LOCATION": REDIS_SENTINEL_MASTER,
            "OPTIONS": {
                "sentinels": REDIS_SENTINELS,
                **CACHE_TIMEOUTS,
                **redis_resilience(for_asyncio=False, sentinel=True),
            },
            "KEY_PREFIX": REDIS_PREFIX,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Every WebSocket handshake loads its session: from the cache (Redis in
# production), so a crowd's handshakes do not queue for the database.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

_VALIDATORS = "django.contrib.auth.password_validation"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"{_VALIDATORS}.UserAttributeSimilarityValidator"},
    {"NAME": f"{_VALIDATORS}.MinimumLengthValidator"},
    {"NAME": f"{_VALIDATORS}.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
# daphne serves static files itself unless a proxy (nginx) does it.
SERVE_STATIC = env_bool("SERVE_STATIC", True)
# When nginx serves STATIC_ROOT (SERVE_STATIC=0), names carry a hash of their
# content (client.3f2a9c1b7d4e.js) so it can cache them for a year: a deploy
# changes the URL. This needs `collectstatic` before starting. daphne serving
# static itself (SERVE_STATIC=1: `make run`) reads the source folders, where
# no hashed names exist, so it keeps plain names; with DEBUG on the manifest
# storage would give plain names anyway. See docs/deploy.md ("Static files").
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage."
        + ("StaticFilesStorage" if SERVE_STATIC else "ManifestStaticFilesStorage")
    },
}
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT") or BASE_DIR / "media")

# Behind nginx: trust its X-Forwarded-Proto to know a request came over TLS.
if env_bool("BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SECURE_REDIRECT_EXEMPT = [r"^(livez|readyz|healthz)$"]

# Duplex's own limits; docs/protocol.md documents each.
DUPLEX = {
    # Largest frame the echo endpoint returns; daphne refuses larger (1009).
    "ECHO_MAX_BYTES": env_int("DUPLEX_ECHO_MAX_BYTES", 1024 * 1024),
    # Largest JSON frame a feature socket accepts.
    "MAX_FRAME_BYTES": env_int("DUPLEX_MAX_FRAME_BYTES", 16 * 1024),
    # Fragments one message may arrive in, plus one per FRAGMENT_BYTES it carries;
    # past that daphne closes the socket with 1009 (realtime/core/transport.py).
    "MAX_FRAGMENTS": env_int("DUPLEX_MAX_FRAGMENTS", 64),
    "FRAGMENT_BYTES": env_int("DUPLEX_FRAGMENT_BYTES", 1024),
    # permessage-deflate (realtime/core/compression.py): on when a client offers
    # it; the server's window (2**bits bytes, 9-15) and zlib memory level (1-9).
    "DEFLATE": env_bool("DUPLEX_DEFLATE", True),
    "DEFLATE_WINDOW_BITS": env_int("DUPLEX_DEFLATE_WINDOW_BITS", 12),
    "DEFLATE_MEM_LEVEL": env_int("DUPLEX_DEFLATE_MEM_LEVEL", 5),
    # Per-connection flood control: sustained frames per second and burst.
    "FRAME_RATE": env_float("DUPLEX_FRAME_RATE", 10),
    "FRAME_BURST": env_int("DUPLEX_FRAME_BURST", 30),
    # Error frames a connection may earn before it is closed with 1008.
    "MAX_STRIKES": env_int("DUPLEX_MAX_STRIKES", 20),
    # Handshakes a process works on at once; past it, 1013 with a retry hint.
    "MAX_HANDSHAKES": env_int("DUPLEX_MAX_HANDSHAKES", 50),
    # Bytes of replies a socket may owe a client that does not read them: above
    # the largest replay (500 chat messages) a slow but honest reader is owed.
    "OUTBOX_MAX_BYTES": env_int("DUPLEX_OUTBOX_MAX_BYTES", 4 * 1024 * 1024),
    # Login throttling: failures per account, and per client address, within a
    # window of seconds from the first failure (realtime/site/accounts.py).
    "LOGIN_FAILURES": env_int("DUPLEX_LOGIN_FAILURES", 5),
    "LOGIN_ADDRESS_FAILURES": env_int("DUPLEX_LOGIN_ADDRESS_FAILURES", 20),
    "LOGIN_WINDOW": env_int("DUPLEX_LOGIN_WINDOW", 900),
    # Symbols one quotes socket may follow at once.
    "QUOTES_MAX_SUBSCRIPTIONS": env_int("DUPLEX_QUOTES_MAX_SUBSCRIPTIONS", 20),
    # Chat (realtime/chat): messages sent on join and per "load earlier"; a resume
    # gap longer than CHAT_REPLAY_MAX gets chat.reset; own messages stay editable
    # CHAT_EDIT_SECONDS; flood control per user across sockets: CHAT_BURST posts per
    # CHAT_BURST / CHAT_RATE s, then CHAT_COOL_DOWN s refused, and the CHAT_ABUSEth
    # refused post closes with 1008; one typing event per CHAT_TYPING_EVERY s.
    "CHAT_HISTORY": env_int("DUPLEX_CHAT_HISTORY", 50),
    "CHAT_REPLAY_MAX": env_int("DUPLEX_CHAT_REPLAY_MAX", 500),
    "CHAT_EDIT_SECONDS": env_int("DUPLEX_CHAT_EDIT_SECONDS", 300),
    "CHAT_RATE": env_float("DUPLEX_CHAT_RATE", 1.0),
    "CHAT_BURST": env_int("DUPLEX_CHAT_BURST", 5),
    "CHAT_COOL_DOWN": env_int("DUPLEX_CHAT_COOL_DOWN", 10),
    "CHAT_ABUSE": env_int("DUPLEX_CHAT_ABUSE", 5),
    "CHAT_TYPING_EVERY": env_float("DUPLEX_CHAT_TYPING_EVERY", 2.0),
    # Seconds between two presence diffs of a room (realtime/chat/presence.py).
    "CHAT_PRESENCE_EVERY": env_float("DUPLEX_CHAT_PRESENCE_EVERY", 1.0),
    "CHAT_IMAGE_BYTES": env_int("DUPLEX_CHAT_IMAGE_BYTES", 2 * 1024 * 1024),
    # Seconds a game waits for a disconnected player before the opponent may claim.
    "GAME_GRACE_SECONDS": env_int("DUPLEX_GAME_GRACE_SECONDS", 30),
    # Games one user may have waiting for an opponent at once (the lobby shows 50).
    "GAME_OPEN_PER_USER": env_int("DUPLEX_GAME_OPEN_PER_USER", 3),
    # Draw offers one player may make per game (realtime/game/draws.py).
    "GAME_DRAW_OFFERS": env_int("DUPLEX_GAME_DRAW_OFFERS", 3),
}

LOG_FORMAT = os.environ.get("LOG_FORMAT", "plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {
            "()": "realtime.core.logs.PlainFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
        "json": {"()": "realtime.core.logs.JsonFormatter"},
    },
    "filters": {"layer_outage": {"()": "realtime.core.logs.LayerOutage"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "daphne": {"level": "WARNING"},
        "channels_redis.pubsub": {"filters": ["layer_outage"]},
    },
}
