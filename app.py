"""WSGI entry point: ``flask --app app run`` or ``gunicorn 'app:create_app()'``.

Nothing runs at import time; Flask finds the ``create_app`` factory here.
"""

from inspection import create_app

__all__ = ["create_app"]
