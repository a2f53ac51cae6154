"""Blueprints: thin views that check access, validate a form, call one service, commit once."""

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from inspection.views import (
        admin,
        api,
        auth,
        files,
        inspector,
        main,
        office,
        pwa,
        unit,
        verify,
    )

    for module in (main, pwa, auth, admin, inspector, unit, office, files, verify, api):
        app.register_blueprint(module.bp)
