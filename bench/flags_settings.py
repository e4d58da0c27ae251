"""Settings for bench/flags.py: the project's, with the bench's URLs."""

from newstunneler.settings import *  # noqa: F403

ROOT_URLCONF = "bench.flags_urls"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
