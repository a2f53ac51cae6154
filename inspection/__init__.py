"""Public-service discipline inspections: the Flask application factory."""

from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from inspection.config import Config


def create_app(test_config: dict | None = None) -> Flask:
    """Create and configure the app; ``test_config`` overrides the environment."""
    app = Flask(
        __name__,
        instance_path=str(Path(__file__).resolve().parent.parent / "instance"),
        instance_relative_config=True,
        template_folder="../templates",
    )
    app.config.update(Config.load(Path(app.instance_path), test_config))

    from inspection import boundary, cli, extensions, i18n, logs, queue, responses, sessions
    from inspection.views import register_blueprints

    logs.configure()
    if proxies := app.config["TRUSTED_PROXIES"]:
        # Behind nginx: trust its X-Forwarded-For/-Proto/-Host, so the audit log records
        # the phone's address and url_for builds https links.
        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_prefix=proxies
        )
    logs.init_app(app)
    extensions.init_app(app)
    i18n.init_app(app)
    boundary.init_app(app)
    sessions.init_app(app)
    responses.init_app(app)
    queue.init_app(app)
    register_blueprints(app)
    cli.init_app(app)
    return app
