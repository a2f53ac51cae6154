"""Public-service discipline inspections: the Flask application factory."""

import logging
from pathlib import Path

from flask import Flask

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

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for noisy in ("alembic", "weasyprint", "fontTools"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    from inspection import cli, extensions, i18n, web
    from inspection.views import register_blueprints

    extensions.init_app(app)
    i18n.init_app(app)
    web.init_app(app)
    register_blueprints(app)
    cli.init_app(app)
    return app
