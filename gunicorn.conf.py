"""gunicorn settings for a small server: `gunicorn -c gunicorn.conf.py 'app:create_app()'`.

Tuned for 2 cores: a worker per core plus one (rendering minutes keeps one busy for a
second), each with a few threads for the many small saves that mostly wait on the
database and the network. Every setting can be overridden from the environment.
"""

import multiprocessing
import os

bind = os.environ.get("BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", 4))
timeout = 60  # finalizing a large visit renders and signs a PDF
graceful_timeout = 30
keepalive = 5
max_requests = 5000  # recycle workers now and then; jitter keeps them from restarting together
max_requests_jitter = 500
accesslog = None  # the app writes one structured JSON line per request to stderr
preload_app = False  # each worker opens its own database connections


def on_starting(server):
    """Say so when the login limits cannot be shared between the workers."""
    storage = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    if workers > 1 and storage.startswith("memory://"):
        server.log.warning(
            "RATELIMIT_STORAGE_URI is memory://: each of the %d workers counts login failures"
            " on its own; set redis://... (README, Deployment)",
            workers,
        )
