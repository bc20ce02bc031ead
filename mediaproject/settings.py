"""Settings, read from the environment with defaults in code.

Every variable the server reads is documented here, where it is read. With none set,
the server runs in the *embedded* mode: SQLite in the data folder, the in-memory channel
layer, the worker inline in the bridge process, and django-q2 on the ORM broker. Setting
``REDIS_URL`` (and usually ``DATABASE_URL``) switches to the *scaled* mode.

A value that cannot be used raises ``ImproperlyConfigured`` naming the variable.
"""
from __future__ import annotations

import importlib.util
import ipaddress
import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from common.datadir import make_private

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false, yes/no, on/off), got {raw!r}")


def env_number(name: str, default: float, *, cast=float, minimum: float | None = None):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return cast(default)
    try:
        value = cast(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {raw!r}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_networks(name: str) -> list[str]:
    """A comma-separated list of IP addresses or CIDR networks, as network strings."""
    networks = []
    for item in env_list(name, []):
        try:
            networks.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise ImproperlyConfigured(f"{name} must list IP addresses or networks (10.0.0.0/8), got {item!r}") from None
    return networks


def env_rate(name: str, default: str) -> tuple[int, int]:
    """``N/period`` (period: s, min, hour or day, as DRF writes rates) as (N, seconds)."""
    raw = env_str(name) or default
    count, _, period = raw.partition("/")
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}.get(period.strip()[:1])
    if not count.strip().isdigit() or int(count) < 1 or seconds is None:
        raise ImproperlyConfigured(f"{name} must be a count per period like 10/min (s, min, hour, day), got {raw!r}")
    return int(count), seconds


# DATA_DIR: where the embedded server keeps its SQLite database, generated secret key,
# cover art and caches. Default: ``data/`` at the repository root. Private to the
# server's account: every server process runs with umask 077, so the folder is 0700 and
# what is made in it 0600; loose modes are tightened at start (``common.datadir``).
DATA_DIR = Path(env_str("DATA_DIR") or BASE_DIR / "data").resolve()
try:
    make_private(DATA_DIR)
except OSError as exc:
    raise ImproperlyConfigured(f"DATA_DIR {str(DATA_DIR)!r} cannot be created: {exc}") from None

# DEBUG: Django's debug mode (tracebacks in pages). Off unless set.
DEBUG = env_bool("DEBUG", False)

# REDIS_URL: unset = embedded mode (in-memory channel layer, worker inline, ORM broker);
# set (``redis://host:6379/0``) = scaled mode (channels-redis, django-q2 on Redis, workers
# as ``manage.py runworker worker`` processes).
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL and urlparse(REDIS_URL).scheme not in ("redis", "rediss", "unix"):
    raise ImproperlyConfigured(f"REDIS_URL must be a redis://, rediss:// or unix:// URL, got {REDIS_URL!r}")
SCALED = bool(REDIS_URL)


def _secret_key() -> str:
    """SECRET_KEY from the environment; required in the scaled mode unless DEBUG is on.

    The embedded server (one machine, one data folder) generates a key once and keeps it
    in ``DATA_DIR/secret_key`` (mode 0600): it is never a built-in value, and it survives
    restarts so sessions do. Scaled processes on several machines must share one key, so
    there it must be given explicitly.
    """
    value = env_str("SECRET_KEY")
    if value:
        if len(value) < 32:
            raise ImproperlyConfigured("SECRET_KEY must be at least 32 characters long")
        return value
    if SCALED and not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is required when REDIS_URL is set and DEBUG is off: every process "
            "of a scaled deployment must share one key"
        )
    path = DATA_DIR / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()

# ALLOWED_HOSTS: comma-separated host names the server answers to. WebSocket handshakes
# carrying an Origin header must come from the server's own origin (same scheme, host
# and port as the handshake) or from CSRF_TRUSTED_ORIGINS.
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
# CSRF_TRUSTED_ORIGINS: comma-separated origins (``https://music.example.org``,
# ``https://*.example.org``) allowed for unsafe requests and WebSocket handshakes, e.g.
# behind a proxy that changes the scheme or port the server sees.
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# TRUSTED_PROXIES: comma-separated addresses or networks (``127.0.0.1,10.0.0.0/8``) of the
# reverse proxies in front of the server. Empty (the default): the connecting address is the
# client and X-Forwarded-For / X-Forwarded-Proto are ignored. Behind listed proxies the client
# is the right-most X-Forwarded-For address that is not one of them (``bridge.clientaddr``).
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES")

# BEHIND_TLS: 1 when browsers and apps reach the server over HTTPS only, through a proxy that
# ends TLS and sets ``X-Forwarded-Proto`` (see deploy/nginx.conf.example). It turns on
# Secure session and CSRF cookies, HSTS, and redirects plain-HTTP requests to HTTPS (except
# ``/healthz``, which local checks call directly). Whether a request came over HTTPS is the
# proxy's X-Forwarded-Proto, believed from TRUSTED_PROXIES only (``bridge.clientaddr`` sets
# the request's scheme), so BEHIND_TLS needs TRUSTED_PROXIES: Django's own
# SECURE_PROXY_SSL_HEADER would believe that header from anyone. Off by default: a
# plain-HTTP server on a LAN.
BEHIND_TLS = env_bool("BEHIND_TLS", False)
# HSTS_SECONDS: how long browsers remember to use HTTPS only, when BEHIND_TLS is on (default
# a year; subdomains included, preload-ready). Start lower (e.g. 300) while trying TLS out.
HSTS_SECONDS = env_number("HSTS_SECONDS", 365 * 24 * 3600, cast=int, minimum=0)
if BEHIND_TLS:
    if not TRUSTED_PROXIES:
        raise ImproperlyConfigured(
            "BEHIND_TLS needs TRUSTED_PROXIES (the TLS proxy's address, e.g. 127.0.0.1): only from a "
            "trusted proxy is X-Forwarded-Proto believed, and without it every request would seem "
            "plain HTTP and be redirected forever")
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = HSTS_SECONDS
    SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_PRELOAD = True

INSTALLED_APPS = [
    # worker first: its runworker command refuses the in-memory layer.
    "worker",
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "csp",
    "rest_framework",
    "drf_spectacular",
    "rest_framework.authtoken",
    "django_q",
    "axes",
    "common",
    "bridge",
    "orchestrator",
    "tracker",
    "library",
    # `manage.py bench` (development tools; no models)
    "devtools",
]

MIDDLEWARE = [
    "bridge.middleware.ApiGZipMiddleware",  # large JSON/XML of /rest/ and /api/ (bridge/middleware.py)
    "django.middleware.security.SecurityMiddleware",
    # Static files: the collected, versioned names with a year's immutable lifetime and their
    # gzip or brotli copy; before collectstatic, the source files (mediaproject.storage).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "bridge.middleware.SubsonicCorsMiddleware",  # any origin on /rest/, preflights answered
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# Content-Security-Policy on every response (django-csp): scripts, styles, images, audio and
# connections (the REST API, and the WebSocket: 'self' covers ws:/wss: to the same host)
# from this server only, no inline scripts, no plugins, no framing. ``img-src data:`` is for
# Swagger UI's stylesheet (inline SVG icons). The API docs relax
# ``style-src`` (Swagger UI and Redoc write inline styles; see bridge/api/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "media-src": [SELF],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

ROOT_URLCONF = "mediaproject.urls"
ASGI_APPLICATION = "mediaproject.asgi.application"

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


# DATABASE_URL: dj-database-url form, ``sqlite:////abs/path/db.sqlite3`` or
# ``postgres://user@host:5432/db``. Default: ``DATA_DIR/db.sqlite3``. SQLite always runs
# in WAL mode with IMMEDIATE transactions and a busy timeout, so the bridge and the
# orchestrator can write to it at once.
# DB_CONN_MAX_AGE: seconds a thread keeps its database connection (default 300; 0: a
# new connection per request). Connections are checked before reuse. HTTP requests run
# on HTTP_THREADS long-lived threads (default 8, see ``mediaproject.http``), so a
# bridge holds at most that many for HTTP, plus those of its WebSocket handler threads.
DB_CONN_MAX_AGE = env_number("DB_CONN_MAX_AGE", 300, cast=int, minimum=0)
HTTP_THREADS = env_number("HTTP_THREADS", 8, cast=int, minimum=1)


def _databases() -> dict:
    import dj_database_url

    url = env_str("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'db.sqlite3'}"
    try:
        config = dj_database_url.parse(url)
    except Exception as exc:  # dj-database-url raises several types for bad URLs
        raise ImproperlyConfigured(f"DATABASE_URL cannot be parsed: {exc}") from None
    engine = config.get("ENGINE", "")
    if engine == "django.db.backends.sqlite3":
        config["OPTIONS"] = {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
        config["NAME"] = str(config["NAME"])
        config["TEST"] = {"NAME": str(DATA_DIR / "test-db.sqlite3")}
    elif engine != "django.db.backends.postgresql":
        raise ImproperlyConfigured(f"DATABASE_URL must name SQLite or PostgreSQL, got engine {engine!r}")
    config["CONN_MAX_AGE"] = DB_CONN_MAX_AGE
    config["CONN_HEALTH_CHECKS"] = True
    return {"default": config}


DATABASES = _databases()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# CHANNELS_PREFIX: key prefix for the Redis channel layers, so several deployments (or
# test runs) can share one Redis.
CHANNELS_PREFIX = env_str("CHANNELS_PREFIX", "asgi")

# Two layer aliases in the scaled mode: ``default`` is the pub/sub layer (groups,
# broadcasts, each connection's own channel, RPC replies: fast and lossless under load),
# ``worker`` the core layer, whose named channels are shared queues that several
# ``runworker`` processes consume competitively. See docs/architecture.md for the measurements.
if SCALED:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": CHANNELS_PREFIX},
        },
        "worker": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": CHANNELS_PREFIX + ":w", "capacity": 1000, "expiry": 30},
        },
    }
else:
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer"},
        "worker": {"BACKEND": "channels.layers.InMemoryChannelLayer"},
    }

# WORKER_MODE: ``inline`` runs handlers in the bridge process; ``queue`` sends them to
# the ``worker`` channel for ``runworker`` processes. Follows REDIS_URL unless set.
WORKER_MODE = env_str("WORKER_MODE", "queue" if SCALED else "inline")
if WORKER_MODE not in ("inline", "queue"):
    raise ImproperlyConfigured(f"WORKER_MODE must be 'inline' or 'queue', got {WORKER_MODE!r}")
if WORKER_MODE == "queue" and not SCALED:
    raise ImproperlyConfigured("WORKER_MODE=queue needs REDIS_URL: the in-memory layer cannot reach other processes")

# RPC_TIMEOUT: seconds a request waits for a worker's reply before the client gets a
# ``timeout`` error.
RPC_TIMEOUT = env_number("RPC_TIMEOUT", 10.0, minimum=0.1)
# WS_MAX_FRAME_BYTES: the largest WebSocket text frame accepted; larger ones get ``too_large``.
WS_MAX_FRAME_BYTES = env_number("WS_MAX_FRAME_BYTES", 64 * 1024, cast=int, minimum=256)
# WS_RATE_LIMIT / WS_RATE_BURST: requests per second a connection may send on average,
# and how many it may send at once; beyond them requests get ``rate_limited``.
WS_RATE_LIMIT = env_number("WS_RATE_LIMIT", 30.0, minimum=0.1)
WS_RATE_BURST = env_number("WS_RATE_BURST", 60, cast=int, minimum=1)
# WS_MAX_PENDING_EVENTS: events that may wait for a slow client before they are dropped
# and the client is told to resync (``bridge.ws.outbox``).
WS_MAX_PENDING_EVENTS = env_number("WS_MAX_PENDING_EVENTS", 1000, cast=int, minimum=1)
# WS_AUTH_RECHECK: seconds between checks that connections' tokens and browser sessions are still valid.
WS_AUTH_RECHECK = env_number("WS_AUTH_RECHECK", 30.0, minimum=0.5)
# WS_MAX_CONNECTIONS_PER_USER: open WebSocket connections one user may hold, counted
# across every bridge (``bridge.presence``); more are closed with code 4409.
WS_MAX_CONNECTIONS_PER_USER = env_number("WS_MAX_CONNECTIONS_PER_USER", 20, cast=int, minimum=1)
# WS_DIRECT_WRITES: 1 writes group events' frames straight to the socket's transport,
# 0 sends them through daphne's send path.
WS_DIRECT_WRITES = env_bool("WS_DIRECT_WRITES", True)
# PRESENCE_TTL / PRESENCE_REFRESH: seconds after its bridge's last refresh that a
# connection's presence expires, and seconds between a bridge's refreshes (``bridge.presence``).
PRESENCE_TTL = env_number("PRESENCE_TTL", 60.0, minimum=2.0)
PRESENCE_REFRESH = env_number("PRESENCE_REFRESH", PRESENCE_TTL / 3, minimum=0.5)
# DEVICE_EXPIRY_DAYS: a device player nobody registered or used for this many days is
# deleted by the orchestrator's hourly upkeep (``orchestrator.tasks.upkeep``).
DEVICE_EXPIRY_DAYS = env_number("DEVICE_EXPIRY_DAYS", 30, cast=int, minimum=1)

# TRACKER_LOG_TAIL: in the embedded mode the bridge polls the tracker log for changes
# committed by other processes (the orchestrator) and delivers them; on by default.
TRACKER_LOG_TAIL = env_bool("TRACKER_LOG_TAIL", True)

# django-q2. A task's ``retry`` must exceed its ``timeout`` or it would run twice;
# ``max_attempts`` 1 so a failed scan is recorded, not retried forever; no catch-up of
# missed schedules after downtime.
Q_CLUSTER = {
    "name": "orchestrator",
    "workers": int(env_number("Q_WORKERS", 2, cast=int, minimum=1)),
    "timeout": 3600,
    "retry": 3900,
    "max_attempts": 1,
    "catch_up": False,
    "ack_failures": True,
    "save_limit": 250,
    "label": "Orchestrator",
    # A scan parses files in a process pool; daemonic workers may not have children.
    "daemonize_workers": False,
}
if SCALED:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
    Q_CLUSTER["poll"] = 1

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# LOGIN_RATE: failed sign-ins allowed per window (``10/min``; periods s, min, hour, day), per
# client address and per username, on every password check (REST token, Subsonic, /login/,
# the admin). Beyond it, sign-ins from that address or for that username are refused (429 with
# Retry-After over HTTP) until the window has passed (``bridge.lockout``, django-axes). The
# REST token endpoint also takes at most that many requests per window from one address.
LOGIN_RATE = env_str("LOGIN_RATE") or "10/min"
LOGIN_FAILURE_LIMIT, LOGIN_WINDOW = env_rate("LOGIN_RATE", LOGIN_RATE)
# SHARE_RATE: requests per window one client address may make to the public share pages
# (``/share/<token>`` and its audio and cover URLs; ``120/min`` by default). Beyond it they get
# 429 with Retry-After until the window has passed (``bridge.shares``).
SHARE_RATE = env_str("SHARE_RATE") or "120/min"
SHARE_RATE_LIMIT, SHARE_RATE_WINDOW = env_rate("SHARE_RATE", SHARE_RATE)
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses locked-out sign-ins
    "bridge.usernames.CaseInsensitiveModelBackend",  # usernames in any case (bridge/usernames.py)
]
AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(seconds=LOGIN_WINDOW)
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_PARAMETERS = "bridge.lockout.lockout_parameters"
AXES_USERNAME_CALLABLE = "bridge.lockout.username_key"
AXES_CLIENT_IP_CALLABLE = "bridge.clientaddr.client_address"
AXES_ENABLE_ADMIN = False  # the counts are in the cache, not in axes' tables
AXES_VERBOSE = False
AXES_SENSITIVE_PARAMETERS = []  # axes' warnings name the address and username (never a password)
# axes.W002: login views answer lockouts themselves (``bridge.lockout``), not axes' middleware.
# axes.W001 (a per-process cache) holds only in the embedded mode, where one bridge process
# checks every password.
SILENCED_SYSTEM_CHECKS = ["axes.W002"] + ([] if SCALED else ["axes.W001"])

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "bridge.tokens.TokenAuth",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "EXCEPTION_HANDLER": "bridge.api.errors.exception_handler",
    # JSON only (the interactive docs are at /api/v1/docs/), written by orjson.
    "DEFAULT_RENDERER_CLASSES": ["bridge.api.renderers.JSONRenderer"],
    # JSON bodies with bounded nesting (a deeper body is a 400, not a RecursionError).
    "DEFAULT_PARSER_CLASSES": ["bridge.api.parsers.JSONParser"],
    "DEFAULT_THROTTLE_RATES": {"login": LOGIN_RATE},
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

# The REST API's OpenAPI schema (``/api/v1/schema/``) and interactive docs (``/api/v1/docs/``).
# Swagger UI and Redoc are served from this server (drf-spectacular-sidecar) so the docs
# work offline; without that package they load from a CDN.
SPECTACULAR_SETTINGS = {
    "TITLE": "Music server REST API",
    "VERSION": "1.0.0",
    "DESCRIPTION": (
        "The catalogue (artists, albums, tracks, genres, search, cover art), libraries and scans (staff), "
        "and trackers (live player and party state). Authenticate with `Authorization: Token <key>` "
        "(`POST /api/v1/auth/token/`) or a session cookie (writes then need the CSRF token). Every error is "
        '`{"error": {"code", "message", "details"?}}` with a stable code.'
    ),
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # ``<id:...>`` in bridge/api/urls.py: 1 to 18 digits.
    "PATH_CONVERTER_OVERRIDES": {"id": {"type": "integer", "format": "int64", "minimum": 0, "maximum": 10**18 - 1}},
    "ENUM_NAME_OVERRIDES": {"ErrorCode": "common.errors.ERROR_CODES", "ScanStatus": "library.models.ScanRun.STATUSES"},
}
if importlib.util.find_spec("drf_spectacular_sidecar") is not None:
    INSTALLED_APPS.insert(INSTALLED_APPS.index("drf_spectacular") + 1, "drf_spectacular_sidecar")
    SPECTACULAR_SETTINGS.update(SWAGGER_UI_DIST="SIDECAR", SWAGGER_UI_FAVICON_HREF="SIDECAR", REDOC_DIST="SIDECAR")

# The cache: throttles and resized cover art bookkeeping. Redis in the scaled mode, so
# every process counts together; in-process memory otherwise.
if SCALED:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                          "KEY_PREFIX": CHANNELS_PREFIX}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# STREAM_X_ACCEL_PREFIX: when set (e.g. "/_music/"), audio is handed to nginx with
# X-Accel-Redirect instead of being sent by the bridge; see the README's nginx example.
STREAM_X_ACCEL_PREFIX = env_str("STREAM_X_ACCEL_PREFIX")

# STREAM_STALL_TIMEOUT: seconds a client may read nothing of a streamed response (audio,
# downloads) before the bridge drops it and closes the file (see ``mediaproject.http``).
STREAM_STALL_TIMEOUT = env_number("STREAM_STALL_TIMEOUT", 60, minimum=0.1)

# Transcoding (``bridge.transcode``). FFMPEG: the ffmpeg binary; unset: ``ffmpeg`` on PATH,
# else the one the imageio-ffmpeg wheel ships. TRANSCODE_CACHE_MB: the size of the cache of
# transcoded files in DATA_DIR/transcode (least recently used removed first).
# TRANSCODE_MAX_PROCESSES: ffmpeg processes one bridge runs at once; a request beyond waits
# up to TRANSCODE_QUEUE_SECONDS for one to end, then gets 503 with Retry-After.
# TRANSCODE_HEAD_START_SECONDS: audio an ffmpeg writes at the bridge's priority before it is
# niced (the rest of the entry is background work).
FFMPEG = env_str("FFMPEG")
TRANSCODE_CACHE_MB = env_number("TRANSCODE_CACHE_MB", 2048, minimum=1)
TRANSCODE_MAX_PROCESSES = env_number("TRANSCODE_MAX_PROCESSES", 8, cast=int, minimum=1)
TRANSCODE_QUEUE_SECONDS = env_number("TRANSCODE_QUEUE_SECONDS", 2, minimum=0)
TRANSCODE_HEAD_START_SECONDS = env_number("TRANSCODE_HEAD_START_SECONDS", 10, minimum=0)

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# STATIC_ROOT: where ``manage.py collectstatic`` puts the UI's files for a web server in
# front (nginx) to serve. Outside DATA_DIR, which only the server's account may read.
STATIC_ROOT = Path(env_str("STATIC_ROOT") or BASE_DIR / "staticfiles").resolve()
# ``collectstatic`` writes versioned, pre-compressed copies there (``mediaproject.storage``);
# ``make run`` runs it. Server processes run with umask 077 (``common.datadir``); collected
# static files are not secret and must stay readable by the web server's account.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "mediaproject.storage.StaticFilesStorage",
        "OPTIONS": {"file_permissions_mode": 0o644, "directory_permissions_mode": 0o755},
    },
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = False
LOGIN_URL = "/login/"

# Every line goes through ``bridge.logs.RedactingFormatter``: secret query parameters (Subsonic's
# p, t, s, apiKey; password- and token-like names) are written as ``[redacted]``. The access log
# is logger ``bridge.access`` (INFO), one line per request, naming the client by TRUSTED_PROXIES.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"()": "bridge.logs.RedactingFormatter",
                             "format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.channels.server": {"level": "WARNING"}},
}
