"""How many taps a whole visit takes on a 360x740 phone, from the home page to the summary
with nothing missing: a school (35 people) and a town with a one-stop desk (40 people).
Everyone present and every check passed, the fastest honest path; each number typed is
one tap (typing is not counted)."""

import re

import pytest

from tests.e2e.test_visit_phone import Taps, _login, _wait_ready, _wait_saved


def _visit(page, base, unit_name, search) -> int:
    tap = Taps(page)
    tap(page.get_by_role("link", name="Bắt đầu kiểm tra đột xuất"))
    page.wait_for_url(re.compile(r"/inspector/start$"))
    tap(page.get_by_placeholder("Gõ một phần tên…"))
    page.keyboard.type(search)
    tap(page.locator("#unit-list label", has_text=unit_name))
    tap(page.get_by_role("button", name="Bắt đầu kiểm tra ngay"))
    page.wait_for_url(re.compile(r"/inspector/visits/\d+$"))
    _wait_ready(page)
    tap(page.get_by_role("button", name="Tất cả có mặt"))
    tap(page.locator("#roster").get_by_role("button", name="Tất cả đạt"))
    tap(page.locator("#unit-h + button"))  # every pass/fail unit item asked: pass
    # What "all pass" cannot answer: a not-applicable item, a number, a choice.
    for card in page.locator(".item:not([hidden])").all():
        if card.locator("fieldset.outcome input:checked").count():
            continue
        if card.locator("fieldset.outcome").count():
            tap(card.locator("label", has_text="KAD"))
        elif card.locator(".choice-list").count():
            tap(card.locator(".choice-list label").first)
        elif card.get_attribute("data-required") is not None:
            number = card.locator("input[inputmode=decimal]")
            tap(number)
            page.keyboard.type("0")
            number.blur()
    _wait_saved(page)
    tap(page.locator(".savebar").get_by_role("button", name="Tổng hợp"))
    page.wait_for_url(re.compile(r"/summary$"))
    assert "Đã trả lời đủ các nội dung bắt buộc." in page.locator("main").inner_text()
    return tap.count


@pytest.mark.parametrize(
    ("unit_name", "search", "most"),
    [
        ("Trường Trung học cơ sở Hương Canh", "trung hoc", 12),
        ("Ủy ban nhân dân thị trấn Hương Canh", "thi tran huong", 10),
    ],
)
def test_a_whole_visit_in_few_taps(phone, live_server, unit_name, search, most):
    _login(phone, live_server)
    taps = _visit(phone, live_server, unit_name, search)
    print(f"\n{unit_name}: {taps} taps to the summary")
    assert taps <= most
