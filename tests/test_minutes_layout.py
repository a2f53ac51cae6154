"""The minutes as a clerk (văn thư) checks them: Decree 30 layout measured with pdfplumber.

A 40-person visit with people late and absent, notes on person items, photos and a
refusal. Set MINUTES_OUT=/some/file.pdf to keep the PDF for looking at its pages.
"""

import os

import pytest

from tests.clerk import PT_MM, centre, column_text, find, forty_person_visit, lines_of, pages, rules
from tests.test_minutes import finalize, pdf_of, sign

AXIS_MM = 1.5  # how far a header line's centre may sit from its column's axis


@pytest.fixture
def lead(token):
    return token("truongdoan")


@pytest.fixture
def issued(client, lead, app):
    inspection_id = forty_person_visit(client, lead, app, sign)
    response = finalize(client, lead, inspection_id)
    assert response.status_code == 201, response.json
    data = pdf_of(client, lead, inspection_id)
    if os.environ.get("MINUTES_OUT"):
        with open(os.environ["MINUTES_OUT"], "wb") as out:
            out.write(data)
    with pages(data) as pdf:
        yield inspection_id, pdf


def test_header_columns_are_each_centred_on_one_axis(issued):
    _id, pdf = issued
    page = pdf.pages[0]
    lines = lines_of(page)
    left = [find(lines, t) for t in ("UBND HUYỆN", "ĐOÀN KIỂM TRA CÔNG VỤ", "Số: 01/BB-ĐKT")]
    right = [find(lines, t) for t in ("CỘNG HÒA XÃ HỘI", "Độc lập - Tự do", "Bình Xuyên, ngày")]
    for column in (left, right):
        axis = centre(column[0])
        for line in column[1:]:
            assert abs(centre(line) - axis) <= AXIS_MM, (line["text"], centre(line), axis)
    # Sizes: Quốc hiệu 12-13 pt, Tiêu ngữ 13-14 pt, both bold; the issuing body bold.
    assert 11.95 <= right[0]["size"] <= 13.05 and "Bold" in right[0]["font"]
    assert 12.95 <= right[1]["size"] <= 14.05 and "Bold" in right[1]["font"]
    assert "Bold" in left[1]["font"] and "Bold" not in left[0]["font"]
    assert "Italic" in right[2]["font"]

    issuer, motto = left[1], right[1]
    drawn = rules(page)
    under_issuer = [r for r in drawn if 0 < r["top"] - issuer["bottom"] < 6]
    assert len(under_issuer) == 1, drawn
    rule = under_issuer[0]
    width = issuer["x1"] - issuer["x0"]
    assert width / 3 <= rule["width"] <= width / 2, (rule, width)
    assert abs((rule["x0"] + rule["x1"]) / 2 - centre(issuer)) <= AXIS_MM
    # The Tiêu ngữ is underlined its own length.
    # The Tiêu ngữ is underlined its own length: a stroke just under it, as wide as it.
    strokes = [*page.rects, *page.lines]
    under_motto = [
        s
        for s in strokes
        if 0 <= s["bottom"] * PT_MM - motto["bottom"] < 3
        and abs(s["x0"] * PT_MM - motto["x0"]) < 1
        and abs(s["x1"] * PT_MM - motto["x1"]) < 1
    ]
    assert under_motto, strokes

    summary = [line for line in lines if line["top"] > motto["bottom"] + 10][1:3]
    assert summary[0]["text"].startswith("Kiểm tra đột xuất")
    longest = max(line["x1"] - line["x0"] for line in summary)
    under_summary = [r for r in drawn if 0 < r["top"] - summary[-1]["bottom"] < 6]
    assert len(under_summary) == 1, drawn
    assert longest / 3 <= under_summary[0]["width"] <= longest / 2


def test_margins_sizes_and_page_numbers(issued):
    _id, pdf = issued
    for number, page in enumerate(pdf.pages, 1):
        body = [w for w in page.extract_words() if w["top"] * PT_MM < 270]
        assert min(w["x0"] for w in body) * PT_MM >= 29.5  # left margin 30 mm
        assert max(w["x1"] for w in body) * PT_MM <= 195.5  # right margin 15 mm
        top_words = [w for w in page.extract_words() if w["top"] * PT_MM < 20]
        if number == 1:
            assert not top_words
        else:  # the page number, centred in the top margin
            assert [w["text"] for w in top_words] == [str(number)]
            assert abs(centre({"words": top_words}) - (30 + 165 / 2)) <= AXIS_MM
    body = [line for line in lines_of(pdf.pages[0]) if line["text"].startswith("Hôm nay")]
    assert body and 12.95 <= body[0]["size"] <= 14.05


def test_notes_times_numbers_and_photos_are_printed(issued):
    _id, pdf = issued
    text = " ".join(" ".join(page.extract_text().split()) for page in pdf.pages)
    notes = " ".join(column_text(page, "Ghi chú") for page in pdf.pages)
    for note in (
        "Đeo thẻ: không đeo thẻ khi tiếp công dân",
        "Giày, dép: Đi dép lê không có quai hậu",
        "Đeo thẻ: Không đeo thẻ công chức",
        "Đến lúc 08 giờ 25 phút",
        "Chưa treo biển cấm hút thuốc lá tại sảnh",
    ):
        assert note in notes, note
    assert "94,6%" in text and "94.6" not in text
    assert "kết thúc vào hồi" in text and "cùng ngày" in text
    # Photos: captioned by the finding they prove, with the capture time in words.
    assert (
        "Ảnh 1: Vũ Ngọc Long – Đeo thẻ: không đeo thẻ khi tiếp công dân;"
        " chụp lúc 09 giờ 09 ngày 02/12/2026" in text
    )
    assert (
        "Ảnh 2: Chưa treo biển cấm hút thuốc lá tại sảnh; chụp lúc 09 giờ 15 ngày 02/12/2026"
        in text
    )
    appendix = pdf.pages[-1]
    shots = [i for i in appendix.images if i["width"] > 100]
    assert len(shots) == 2 and abs(shots[0]["top"] - shots[1]["top"]) < 1  # two a row


def test_the_signature_page_carries_the_closing_text(issued):
    _id, pdf = issued
    signed = [p for p in pdf.pages if "TRƯỞNG ĐOÀN" in (p.extract_text() or "")]
    assert len(signed) == 1
    text = " ".join(signed[0].extract_text().split())
    assert "Buổi kiểm tra kết thúc vào hồi" in text
    assert "Biên bản được lập thành 02 bản" in text
    assert "từ chối ký biên bản, lý do: Không đồng ý kết luận" in text
    # No seal image uploaded: the digital signature's facts in a plain box, ISO 8601 +07:00.
    box = [line for line in lines_of(signed[0]) if line["text"].startswith("Thời gian ký:")]
    assert box and box[0]["text"].endswith("+07:00") and round(box[0]["size"]) == 10
