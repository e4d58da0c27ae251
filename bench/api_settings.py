"""Settings for bench/api.py: the project's, with the bench's URLs."""

from newstunneler.settings import *  # noqa: F403

ROOT_URLCONF = "bench.api_urls"
