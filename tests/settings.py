"""Test settings: the real settings, with Dramatiq's StubBroker so tests run workers in-process.

django_dramatiq builds its broker at django.setup(), before conftest runs, hence a module of its own.
Everything else (database, cache, embedded or external Redis) is exactly what the mode under test uses.
"""

import os

os.environ.setdefault("NT_VAR_DIR", os.path.join(os.path.dirname(os.path.dirname(__file__)), "var", "test"))

from newstunneler.settings import *  # noqa: E402,F403
from newstunneler.settings import DRAMATIQ_MIDDLEWARE  # noqa: E402

DRAMATIQ_BROKER = {
    "BROKER": "dramatiq.brokers.stub.StubBroker",
    "OPTIONS": {},
    "MIDDLEWARE": DRAMATIQ_MIDDLEWARE,
}
CACHES["default"]["KEY_PREFIX"] = "nt-test"  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins for personas
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
WHITENOISE_USE_FINDERS = True  # serve admin assets without collectstatic
ALLOW_PRIVATE_URLS = True  # local test servers live on loopback; the SSRF tests turn it off
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # A real file, as in embedded mode: Django's default in-memory test database uses a shared
    # cache whose table locks fail concurrent writers at once instead of waiting (busy timeout).
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test_newstunneler.sqlite3")}  # noqa: F405
FLAGS_STRICT = True  # an unknown flag name is a bug: fail the test
# A check whose memo is over 2 s old re-reads the flag synchronously here: a background read would run
# outside the test's transaction. tests/flags/test_flags.py turns it on to test it.
FLAGS_BACKGROUND_REFRESH = False
CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = "nt-test:ws"  # noqa: F405
