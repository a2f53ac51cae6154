"""gunicorn settings for a small server: `gunicorn -c gunicorn.conf.py 'app:create_app()'`.

Tuned for 2 cores: four single-threaded workers per core. Python runs one thread of a
process at a time, so threads would overlap only the waits on the database and the
network, which are short here; and a thread holding SQLite's one write lock had to win
the process back from its neighbours (rendering a page, a photo, minutes) at each
statement, so every save queued behind it waited too (the capacity bench at 110
inspectors: the lock held 8-11 ms per save with 3 workers x 4 threads, 6 ms with 8 x 1;
save p95 254-367 ms against 106 ms). Several workers keep a second-long finalize from
holding the others up. Every setting can be overridden from the environment.
"""

import multiprocessing
import os

bind = os.environ.get("BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", 4 * multiprocessing.cpu_count()))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", 1))
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
