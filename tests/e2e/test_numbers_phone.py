"""Numbers typed the Vietnamese way on a vi-VN phone: "92,5" is 92.5, 925% is refused."""

from decimal import Decimal

from sqlalchemy import select

from inspection.extensions import db
from inspection.models import ChecklistItem, Inspection, UnitItemResult
from tests.e2e.test_visit_phone import _start_visit, _wait_ready, _wait_saved


def _rate(app):
    with app.app_context():
        return db.session.scalar(
            select(UnitItemResult.number_value)
            .join(ChecklistItem, ChecklistItem.id == UnitItemResult.item_id)
            .where(ChecklistItem.code == "OSS-OVERDUE")
        )


def test_the_on_time_rate_typed_with_a_comma(phone, live_server, app):
    page = phone
    _start_visit(page, live_server, "Trung tâm Hành chính công huyện")
    _wait_ready(page)
    rate = page.locator(".item[data-code=OSS-OVERDUE] input[name$=_number]")
    assert rate.get_attribute("inputmode") == "decimal"
    rate.fill("92,5")
    rate.dispatch_event("change")
    _wait_saved(page)
    assert _rate(app) == Decimal("92.5")

    rate.fill("925")
    rate.dispatch_event("change")
    error = page.locator(".item[data-code=OSS-OVERDUE] [data-field-error]")
    error.wait_for()
    assert "từ 0 đến 100" in error.inner_text()
    assert _rate(app) == Decimal("92.5")  # nothing saved is lost

    # After a reload the phone still shows what was typed and why it was refused.
    page.reload()
    error.wait_for()
    assert rate.input_value() == "925"
    with app.app_context():
        assert db.session.scalar(select(Inspection)) is not None
