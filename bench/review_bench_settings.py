"""Settings for bench/review_api.py only: the project's settings with the bench URLconf, which adds
the plain DRF baseline endpoint (``/bench/ratings/``) beside every project route.

    DJANGO_SETTINGS_MODULE=bench.review_bench_settings   (the bench sets it for itself and gunicorn)
"""

from hfplatform.settings import *  # noqa: F403

ROOT_URLCONF = "bench.review_baseline"
