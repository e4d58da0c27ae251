"""News Tunneler settings: one module, every knob an environment variable, parsed strictly.

No environment at all = embedded mode: SQLite and an embedded Redis under NT_VAR_DIR.
DATABASE_URL switches to PostgreSQL, REDIS_URL to an external Redis. README lists every variable.
"""

import os
import sys
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key

from newstunneler.env import (
    database_from_url,
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_list,
    env_networks,
    env_str,
    redis_url,
)
from newstunneler.logging import configure_structlog, logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("NT_VAR_DIR", str(BASE_DIR / "var"))).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("NT_DEBUG", False)


def _secret_key() -> str:
    key = env_str("NT_SECRET_KEY")
    if key:
        return key
    # No key in code: generate one per install and keep it under var/ so sessions survive restarts.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(get_random_secret_key())
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("NT_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("NT_CSRF_TRUSTED_ORIGINS", [])

# --- HTTPS hardening: on when the site is served over TLS (behind a proxy that sets X-Forwarded-Proto).
HTTPS = env_bool("NT_HTTPS", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("NT_HSTS_SECONDS", 31536000 if HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = env_bool("NT_HSTS_PRELOAD", False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

INSTALLED_APPS = [
    "django_prometheus",
    "newstunneler.apps.NewsTunnelerAdminConfig",  # django.contrib.admin with the overview on its index
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "waffle",
    "django_dramatiq",
    "newstunneler.apps.NewsTunnelerConfig",
    "apps.jobs",
    "apps.flags",
    "apps.articles",
    "apps.signals",
    "apps.billing",
    "apps.importers",
    "apps.markets",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "newstunneler.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "newstunneler.middleware.BindUserMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "waffle.middleware.WaffleMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "newstunneler.urls"
WSGI_APPLICATION = "newstunneler.wsgi.application"
ASGI_APPLICATION = "newstunneler.asgi.application"

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

# --- Database: PostgreSQL from DATABASE_URL, else SQLite under var/ tuned for several writer processes.
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    _db = database_from_url("DATABASE_URL", DATABASE_URL)
    # Persistent, health-checked connections: without them each request pays a new connection.
    _db["CONN_MAX_AGE"] = env_int("NT_DB_CONN_MAX_AGE", 60, minimum=0)
    _db["CONN_HEALTH_CHECKS"] = True
    _db["OPTIONS"].setdefault("connect_timeout", "5")
    DATABASES = {"default": _db}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django_prometheus.db.backends.sqlite3",
            "NAME": VAR_DIR / "newstunneler.sqlite3",
            "OPTIONS": {
                # WAL lets readers and one writer proceed together; IMMEDIATE takes the write lock
                # at BEGIN so concurrent writers wait (timeout) instead of failing with "locked".
                "transaction_mode": "IMMEDIATE",
                "timeout": env_int("NT_SQLITE_TIMEOUT", 20, minimum=1),
                # A checkpoint (the WAL copied back into the database file, with its fsync) every
                # NT_SQLITE_WAL_PAGES pages written instead of SQLite's 1,000: a page written again and
                # again (a table's last page, an index's hot pages) is copied once per checkpoint.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
                                f"PRAGMA wal_autocheckpoint={env_int('NT_SQLITE_WAL_PAGES', 5000, minimum=100)};",
            },
        }
    }
DB_VENDOR = "postgresql" if DATABASE_URL else "sqlite"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: external from REDIS_URL, else the embedded server (see newstunneler/embedded_redis.py).
REDIS_URL = env_str("REDIS_URL")
EMBEDDED_REDIS = not REDIS_URL
if REDIS_URL:
    redis_url("REDIS_URL", REDIS_URL)
    REDIS_LOCATION = REDIS_URL
else:
    from newstunneler import embedded_redis

    REDIS_LOCATION = embedded_redis.url(VAR_DIR)

CACHES = {
    "default": {
        "BACKEND": "django_prometheus.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_LOCATION,
        "KEY_PREFIX": env_str("NT_CACHE_PREFIX", "nt"),
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "SOCKET_CONNECT_TIMEOUT": 2,
            "SOCKET_TIMEOUT": 2,
        },
    }
}

# --- Dramatiq. Set explicitly: django_dramatiq's defaults name middleware dramatiq 2 no longer has,
# and its AdminMiddleware (deliberately absent) costs ~10x worker throughput.
os.environ.setdefault("dramatiq_prom_host", env_str("NT_WORKER_METRICS_HOST", "127.0.0.1"))
os.environ.setdefault("dramatiq_prom_port", str(env_int("NT_WORKER_METRICS_PORT", 9191, minimum=1, maximum=65535)))
WORKER_METRICS = env_bool("NT_WORKER_METRICS", True)
if WORKER_METRICS and (Path(sys.argv[0]).name == "dramatiq" or sys.argv[1:2] == ["rundramatiq"]):
    # Worker processes write their samples to files the exposition server (forked by Dramatiq's
    # Prometheus middleware) reads. prometheus_client picks that multiprocess mode when first
    # imported, so it is set here, before any app imports it; `rundramatiq` passes it on to the
    # processes it starts, and clears what an earlier run of this var dir left.
    WORKER_METRICS_DIR = VAR_DIR / "worker-metrics"
    WORKER_METRICS_DIR.mkdir(exist_ok=True)
    if sys.argv[1:2] == ["rundramatiq"]:
        for stale in WORKER_METRICS_DIR.glob("*.db"):
            stale.unlink(missing_ok=True)
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(WORKER_METRICS_DIR))
    os.environ.setdefault("dramatiq_prom_db", os.environ["PROMETHEUS_MULTIPROC_DIR"])
DRAMATIQ_MIDDLEWARE = [
    "dramatiq.middleware.AgeLimit",
    "dramatiq.middleware.TimeLimit",
    "dramatiq.middleware.Callbacks",
    "dramatiq.middleware.Pipelines",
    "apps.jobs.middleware.db.DbConnections",
    # The ledger replaces Dramatiq's Retries: it records every state and owns the retry policy.
    "apps.jobs.middleware.ledger.JobLedger",
    "apps.jobs.middleware.heartbeat.WorkerHeartbeat",
]
DRAMATIQ_BROKER = {
    # RedisBroker with a consumer that batches the ledger's Redis work (apps/jobs/broker.py).
    "BROKER": "apps.jobs.broker.LedgerRedisBroker",
    # heartbeat_timeout: after this long without a heartbeat a worker is dead and the scheduler gives
    # the messages it held back to their queues (apps/jobs/brokerstate.py). Live workers beat about
    # every second (each poll of a queue is a beat).
    # namespace: the prefix of every broker key, so that installs (or a benchmark) can share one Redis.
    "OPTIONS": {"url": REDIS_LOCATION, "namespace": env_str("NT_BROKER_NAMESPACE", "dramatiq"),
                "heartbeat_timeout": env_int("NT_BROKER_HEARTBEAT_TIMEOUT", 30_000, minimum=1000)},
    "MIDDLEWARE": (
        ["dramatiq.middleware.prometheus.Prometheus"] if WORKER_METRICS else []
    )
    + DRAMATIQ_MIDDLEWARE,
}
DRAMATIQ_TASKS_DATABASE = "default"
WORKER_PROCESSES = env_int("NT_WORKER_PROCESSES", 1, minimum=1)
WORKER_THREADS = env_int("NT_WORKER_THREADS", 4, minimum=1)
# Web threads per gunicorn worker (gthread): each live alert stream holds one while connected.
WEB_THREADS = env_int("NT_WEB_THREADS", 8, minimum=1)
SCHEDULER_INTERVAL = env_int("NT_SCHEDULER_INTERVAL", 5, minimum=1)

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

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("NT_STATIC_ROOT", str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

REST_FRAMEWORK = {
    # API keys first, so an anonymous call gets 401 with WWW-Authenticate (session alone would say 403).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.billing.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["apps.billing.permissions.RolePermission"],
    "DEFAULT_PAGINATION_CLASS": "newstunneler.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer", "rest_framework.renderers.BrowsableAPIRenderer"],
    "DEFAULT_PARSER_CLASSES": ["newstunneler.api.JSONParser", "rest_framework.parsers.FormParser",
                               "rest_framework.parsers.MultiPartParser"],
    "DEFAULT_SCHEMA_CLASS": "newstunneler.openapi.ApiSchema",
    "DEFAULT_THROTTLE_CLASSES": ["apps.billing.throttles.PlanQuota"],
    "EXCEPTION_HANDLER": "newstunneler.api.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"flags": None},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "News Tunneler API",
    "DESCRIPTION": "Financial news turned into per-ticker trading signals.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI and ReDoc from local static files (drf-spectacular-sidecar), no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {"LabelEnum": "apps.signals.models.Label"},
}

# --- Feature flags: NT_FLAG_<NAME>=on|off overrides the database for that flag in this process.
def _flag_overrides() -> dict[str, bool]:
    overrides = {}
    for variable in sorted(os.environ):
        if variable.startswith("NT_FLAG_"):
            overrides[variable.removeprefix("NT_FLAG_").lower()] = env_bool(variable)
    return overrides


FLAG_OVERRIDES = _flag_overrides()
FLAGS_STRICT = env_bool("NT_FLAGS_STRICT", DEBUG)  # unknown flag names raise (tests, NT_DEBUG) or log
FLAGS_API_RATE = env_str("NT_FLAGS_API_RATE", "60/min")
# An expired in-process flag memo (2 s) is answered while a background thread reads it again.
FLAGS_BACKGROUND_REFRESH = env_bool("NT_FLAGS_BACKGROUND_REFRESH", True)
HOT_CACHE_SECONDS = env_int("NT_HOT_CACHE_SECONDS", 30, minimum=1)
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["flags"] = FLAGS_API_RATE

# --- Waffle: flags live in the database; unknown names are not created behind our back.
WAFFLE_CREATE_MISSING_FLAGS = False
WAFFLE_CREATE_MISSING_SWITCHES = False
WAFFLE_CACHE_NAME = "default"

# --- Metrics: with NT_METRICS_TOKEN, /metrics needs it as a bearer token (from anywhere, loopback too);
# without, it is open to loopback callers only. Behind a proxy, list it in NT_TRUSTED_PROXIES so the
# caller's address is read from X-Forwarded-For (else every caller looks like the proxy).
METRICS_TOKEN = env_str("NT_METRICS_TOKEN")
TRUSTED_PROXIES = env_networks("NT_TRUSTED_PROXIES")
# Computed when /metrics is scraped (added to the multiprocess registry under gunicorn).
METRICS_SCRAPE_COLLECTORS = ["apps.jobs.metrics.JobLedgerCollector", "newstunneler.collectors.PipelineCollector"]
PROMETHEUS_EXPORT_MIGRATIONS = False

# --- Admin user created by `make run` when none exists.
ADMIN_USERNAME = env_str("NT_ADMIN_USERNAME", "admin")
ADMIN_EMAIL = env_str("NT_ADMIN_EMAIL", "admin@localhost")

# --- Email (digests): SMTP when NT_EMAIL_HOST is set, else printed to the console (embedded default).
EMAIL_HOST = env_str("NT_EMAIL_HOST")
EMAIL_BACKEND = env_str(
    "NT_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend")
EMAIL_PORT = env_int("NT_EMAIL_PORT", 587, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("NT_EMAIL_USER")
EMAIL_HOST_PASSWORD = env_str("NT_EMAIL_PASSWORD")
EMAIL_USE_TLS = env_bool("NT_EMAIL_USE_TLS", EMAIL_PORT == 587)
EMAIL_USE_SSL = env_bool("NT_EMAIL_USE_SSL", EMAIL_PORT == 465)
EMAIL_TIMEOUT = env_float("NT_EMAIL_TIMEOUT", 30.0, minimum=1.0)
DEFAULT_FROM_EMAIL = env_str("NT_EMAIL_FROM", "News Tunneler <digests@localhost>")
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("NT_EMAIL_USE_TLS and NT_EMAIL_USE_SSL are exclusive: pick one")
# Links in emails (unsubscribe, articles) start with this: the address people reach the site at.
PUBLIC_URL = env_str("NT_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")

# --- Alerts: strong signals (ScoringPolicy.signal_alert_score) go to Slack, webhooks and the live stream.
SLACK_WEBHOOK_URL = env_str("NT_SLACK_WEBHOOK_URL")
ALERT_DEBOUNCE_SECONDS = env_int("NT_ALERT_DEBOUNCE_SECONDS", 3600, minimum=1)
WEBHOOK_TIMEOUT = env_float("NT_WEBHOOK_TIMEOUT", 10.0, minimum=0.5)
WEBHOOK_DISABLE_AFTER_HOURS = env_float("NT_WEBHOOK_DISABLE_AFTER_HOURS", 24.0, minimum=0.001)
ALERT_STREAM_SECONDS = env_int("NT_ALERT_STREAM_SECONDS", 300, minimum=1)  # then the client reconnects
ALERT_STREAM_KEEPALIVE = env_float("NT_ALERT_STREAM_KEEPALIVE", 15.0, minimum=0.1)
# The WebSocket alert stream (websocket_v2): the ASGI server's address, and the channel layer that carries
# strong signals to every ASGI process (pub/sub on the project's Redis, under the cache prefix).
WS_BIND = env_str("NT_WS_BIND", "127.0.0.1:8001")
CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                              "CONFIG": {"hosts": [REDIS_LOCATION], "prefix": f"{CACHES['default']['KEY_PREFIX']}:ws"}}}
# The GraphQL API (newstunneler/gql): what one document may ask for (newstunneler/gql/limits.py).
GRAPHQL_MAX_DEPTH = env_int("NT_GRAPHQL_MAX_DEPTH", 8, minimum=2, maximum=50)
GRAPHQL_MAX_COST = env_int("NT_GRAPHQL_MAX_COST", 5000, minimum=10)
GRAPHQL_MAX_ALIASES = env_int("NT_GRAPHQL_MAX_ALIASES", 30, minimum=1)
GRAPHQL_MAX_TOKENS = env_int("NT_GRAPHQL_MAX_TOKENS", 2000, minimum=50)
GRAPHQL_MAX_CHARS = env_int("NT_GRAPHQL_MAX_CHARS", 20_000, minimum=100)

# --- Logging.
LOG_FORMAT = env_choice("NT_LOG_FORMAT", "console", {"console", "json"})
LOG_LEVEL = env_choice("NT_LOG_LEVEL", "info", {"debug", "info", "warning", "error"}).upper()
configure_structlog()
# NT_LOG_FILE: also JSON lines to this file, size-rotated (for installs without a log collector).
LOG_FILE = env_str("NT_LOG_FILE")
LOGGING = logging_config(LOG_FORMAT, LOG_LEVEL, LOG_FILE,
                         file_max_bytes=env_int("NT_LOG_FILE_MAX_MB", 50, minimum=1, maximum=10_000) * 2**20,
                         file_backups=env_int("NT_LOG_FILE_BACKUPS", 5, minimum=1, maximum=100))

# --- Outbound HTTP (feeds, LLM, webhooks).
# Private/loopback/link-local/reserved targets are refused unless explicitly allowed (tests, labs).
ALLOW_PRIVATE_URLS = env_bool("NT_ALLOW_PRIVATE_FEEDS", False)
HTTP_USER_AGENT = env_str("NT_HTTP_USER_AGENT", "NewsTunneler/1.0 (+https://github.com/newstunneler)")
FEED_MAX_BYTES = env_int("NT_FEED_MAX_BYTES", 5 * 1024 * 1024, minimum=1024)
FEED_CONNECT_TIMEOUT = env_float("NT_FEED_CONNECT_TIMEOUT", 5.0, minimum=0.1)
FEED_READ_TIMEOUT = env_float("NT_FEED_READ_TIMEOUT", 15.0, minimum=0.1)
FEED_TOTAL_TIMEOUT = env_float("NT_FEED_TOTAL_TIMEOUT", 30.0, minimum=0.1)
FEED_MAX_REDIRECTS = 5
# Markets: the exchange calendar, the benchmark, the daily-bars provider (apps/markets/providers).
MARKET_CALENDAR = env_str("NT_MARKET_CALENDAR", "XNYS")
BENCHMARK_SYMBOL = env_str("NT_BENCHMARK_SYMBOL", "SPY").upper()
PRICES_PROVIDER = env_choice("NT_PRICES_PROVIDER", "", {"", "tiingo"})
TIINGO_TOKEN = env_str("NT_TIINGO_TOKEN", "")
TIINGO_URL = env_str("NT_TIINGO_URL", "https://api.tiingo.com")
PRICES_LOOKBACK_DAYS = env_int("NT_PRICES_LOOKBACK_DAYS", 45, minimum=1)
# Polling: sources per poll_sources job, concurrent fetches per job, and how long the fan-out leases a
# due source (it is not queued again meanwhile; a lost job's sources come back after it).
POLL_BATCH = env_int("NT_POLL_BATCH", 50, minimum=1)
POLL_CONCURRENCY = env_int("NT_POLL_CONCURRENCY", 8, minimum=1)
# PostgreSQL only: answers of one poll_sources job stored at once (each thread its own connection).
POLL_STORE_THREADS = env_int("NT_POLL_STORE_THREADS", 2, minimum=1, maximum=8)
POLL_LEASE_SECONDS = env_int("NT_POLL_LEASE_SECONDS", 1800, minimum=60)
FEED_MAX_BACKOFF_SECONDS = 6 * 3600
# Social and filing sources (apps/articles/feeds/: reddit.py, x.py, sec.py), each behind its switch.
REDDIT_CLIENT_ID = env_str("NT_REDDIT_CLIENT_ID")
REDDIT_CLIENT_SECRET = env_str("NT_REDDIT_CLIENT_SECRET")
REDDIT_USER_AGENT = env_str("NT_REDDIT_USER_AGENT")  # "<platform>:<app id>:<version> (by /u/<username>)"
REDDIT_API_URL = env_str("NT_REDDIT_API_URL", "https://oauth.reddit.com")
REDDIT_TOKEN_URL = env_str("NT_REDDIT_TOKEN_URL", "https://www.reddit.com/api/v1/access_token")
X_BEARER_TOKEN = env_str("NT_X_BEARER_TOKEN")
X_API_URL = env_str("NT_X_API_URL", "https://api.x.com")
X_MAX_PAGES = env_int("NT_X_MAX_PAGES", 3, minimum=1, maximum=50)  # pages of 100 posts per poll
SEC_USER_AGENT = env_str("NT_SEC_USER_AGENT")  # "Company Name admin@example.com": SEC's fair-access rules
SEC_MAX_RPS = env_int("NT_SEC_MAX_RPS", 10, minimum=1, maximum=10)  # SEC allows at most 10 requests/s
SEC_MAX_FILINGS = env_int("NT_SEC_MAX_FILINGS", 100, minimum=1, maximum=1000)  # new filings read per poll

# --- Analysis: an OpenAI-compatible LLM when NT_LLM_BASE_URL/NT_LLM_API_KEY are set, else offline.
LLM_BASE_URL = env_str("NT_LLM_BASE_URL")
LLM_API_KEY = env_str("NT_LLM_API_KEY")
LLM_MODEL = env_str("NT_LLM_MODEL", "gpt-4o-mini")
LLM_TIMEOUT = env_float("NT_LLM_TIMEOUT", 60.0, minimum=1.0)
# USD per million tokens: (prompt, completion). NT_LLM_PRICE_IN / NT_LLM_PRICE_OUT price the configured
# model (and override this table for it); a configured LLM whose model has no price refuses to start,
# since it would cost $0 here and no budget would ever trip.
LLM_PRICES = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
}
_price_in = env_float("NT_LLM_PRICE_IN", None, minimum=0.0)
_price_out = env_float("NT_LLM_PRICE_OUT", None, minimum=0.0)
if (_price_in is None) != (_price_out is None):
    raise ImproperlyConfigured("NT_LLM_PRICE_IN and NT_LLM_PRICE_OUT go together: set both (USD per million tokens)")
if _price_in is not None:
    LLM_PRICES[LLM_MODEL] = (_price_in, _price_out)
if LLM_BASE_URL and LLM_API_KEY and LLM_MODEL not in LLM_PRICES:
    raise ImproperlyConfigured(
        f"NT_LLM_MODEL={LLM_MODEL!r} has no known price: set NT_LLM_PRICE_IN and NT_LLM_PRICE_OUT (USD per million "
        f"prompt and completion tokens), or use one of {', '.join(sorted(LLM_PRICES))}")
# What the LLM may cost per UTC day, over every analysis (pipeline, API, commands). Once spent, analyses
# that did not ask for the LLM by name fall back to the offline analyser, and those that did are refused.
LLM_DAILY_BUDGET_USD = env_float("NT_LLM_DAILY_BUDGET_USD", 5.0, minimum=0.0)
# The alert rule LLMSpendHigh fires when today's spend passes this (default: 80 % of the daily budget).
LLM_SPEND_ALERT_USD = env_float("NT_LLM_SPEND_ALERT_USD", round(0.8 * LLM_DAILY_BUDGET_USD, 4), minimum=0.0)
# A FinBERT-class classifier (ONNX) for analyses made without an LLM, when the finbert_sentiment switch
# is on: a directory with model.onnx, tokenizer.json and labels.json/config.json (README: "FinBERT").
FINBERT_PATH = env_str("NT_FINBERT_PATH")
FINBERT_MAX_TOKENS = env_int("NT_FINBERT_MAX_TOKENS", 128, minimum=8, maximum=512)  # longer texts are truncated
FINBERT_BATCH = env_int("NT_FINBERT_BATCH", 16, minimum=1, maximum=256)  # sentences per model call
FINBERT_THREADS = env_int("NT_FINBERT_THREADS", 1, minimum=1, maximum=64)  # ONNX Runtime threads per process
SIGNAL_RETENTION_DAYS = env_int("NT_SIGNAL_RETENTION_DAYS", 30, minimum=1)
ARTICLE_RETENTION_DAYS = env_int("NT_ARTICLE_RETENTION_DAYS", 90, minimum=1)

# --- Job ledger.
JOBS_DEFAULT_MAX_RETRIES = 3
JOBS_MIN_BACKOFF_MS = 15_000
JOBS_MAX_BACKOFF_MS = 600_000
JOBS_WORKER_DEAD_AFTER = env_int("NT_JOBS_WORKER_DEAD_AFTER", 30, minimum=10)  # seconds without a heartbeat
JOBS_RECONCILE_GRACE = env_int("NT_JOBS_RECONCILE_GRACE", 30, minimum=1)  # seconds a queued job may be unseen
JOBS_RECONCILE_EVERY = env_int("NT_JOBS_RECONCILE_EVERY", 30, minimum=1)  # seconds between the scheduler's reconciles
JOBS_KEEP_SUCCEEDED_DAYS = env_int("NT_JOBS_KEEP_SUCCEEDED_DAYS", 7, minimum=1)
JOBS_KEEP_DEAD_DAYS = env_int("NT_JOBS_KEEP_DEAD_DAYS", 90, minimum=1)
SCHEDULER_METRICS_PORT = env_int("NT_SCHEDULER_METRICS_PORT", 0, minimum=0, maximum=65535)  # 0: no exposition
SCHEDULER_METRICS_HOST = env_str("NT_SCHEDULER_METRICS_HOST", "127.0.0.1")
JOBS_LOG_CHARS = env_int("NT_JOBS_LOG_CHARS", 20_000, minimum=0, maximum=1_000_000)  # log kept per attempt (0: none)
