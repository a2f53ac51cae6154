"""Catalogue completeness, Vietnamese formatting, the health check and error pages."""

import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from babel.messages.pofile import read_po

from inspection.i18n import format_date_vn, format_datetime_vn, format_number

ROOT = Path(__file__).resolve().parent.parent


def test_vietnamese_catalogue_translates_every_string(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_pgettext:1c,2",
            "-o",
            str(pot),
            "--no-location",
            ".",
            "templates/_macros",  # Babel skips folders starting with "_" unless named
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    wanted = {(m.context, m.id) for m in read_po(pot.open("rb")) if m.id}
    assert ("short", "Pass") in wanted and (None, "No data for this period.") in wanted
    po = ROOT / "inspection/translations/vi/LC_MESSAGES/messages.po"
    translated = {(m.context, m.id) for m in read_po(po.open("rb")) if m.id and m.string}
    assert sorted(wanted - translated) == []


def test_vietnamese_dates_and_numbers(app):
    with app.test_request_context():
        assert format_date_vn(date(2018, 10, 5)) == "05/10/2018"
        # 17:30 UTC is 00:30 the next day in Hà Nội.
        assert format_datetime_vn(datetime(2018, 10, 4, 17, 30, tzinfo=UTC)) == "00:30 05/10/2018"
        assert format_number(1300) == "1.300"
        assert format_number(97.5) == "97,5"


def test_english_numbers(app, client):
    with app.test_request_context():
        from flask import session

        session["lang"] = "en"
        assert format_number(1300) == "1,300"


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "db": "ok"}


def test_healthz_503_when_the_database_is_gone(tmp_path):
    from app import create_app

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/dir/db.sqlite",
        }
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "error", "db": "error"}


def test_not_found_page_is_friendly_and_vietnamese(client):
    response = client.get("/khong-co-trang-nay")
    assert response.status_code == 404
    assert "Không tìm thấy." in response.get_data(as_text=True)


def test_security_headers(client):
    headers = client.get("/login").headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "camera=(self)" in headers["Permissions-Policy"]


def test_pages_and_static_files_are_compressed(client):
    css = client.get("/static/css/app.css", headers={"Accept-Encoding": "br, gzip"})
    assert css.status_code == 200 and css.headers["Content-Encoding"] in ("br", "gzip")
    page = client.get("/login", headers={"Accept-Encoding": "gzip"})
    assert page.headers["Content-Encoding"] == "gzip"
