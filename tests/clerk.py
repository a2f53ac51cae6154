"""A clerk's reading of the minutes: the 40-person visit of the Decree 30 check and the
pdfplumber measurements taken of its PDF (in millimetres)."""

import io

from tests.visit_helpers import (
    complete_answers,
    jpeg,
    photo,
    record,
    save,
    start,
    visit_checklist,
)

PT_MM = 25.4 / 72
LATE = {2: "late", 5: "late", 9: "late"}
ABSENT = {12: "absent_excused", 13: "absent_unexcused", 20: "on_duty"}
ITEM_NOTES = {
    1: ("BADGE-WORN", "không đeo thẻ khi tiếp công dân"),
    4: ("UNI-SHOES", "Đi dép lê không có quai hậu"),
    7: ("BADGE-WORN", "Không đeo thẻ công chức"),
}


def forty_person_visit(client, secret, app, sign, *, refuse=True) -> int:
    """Start the 40-person visit (TTHC), fill it as a team would, sign it; return its id.

    Three people late, one each absent with and without permission and on duty, notes on
    failed person items, a failed unit item with a note, the one-stop rate, two photos, a
    refusal by the unit's representative (unless ``refuse`` is false).
    """
    visit = start(client, secret, app, code="TTHC")
    full = record(client, secret, visit["id"])
    assert len(full["people"]) == 40
    checklist = visit_checklist(client, secret, full["id"])
    answers = complete_answers(full, checklist)
    people = answers["people"]
    for index, status in {**LATE, **ABSENT}.items():
        people[index]["attendance"] = status
        if status not in ("present", "late"):
            people[index]["items"] = []
    for index, (code, note) in ITEM_NOTES.items():
        for item in people[index]["items"]:
            if item["code"] == code:
                item.update(outcome="fail", note=note)
    people[5]["note"] = "Đến lúc 08 giờ 25 phút"
    for item in answers["unit_items"]:
        if item["code"] == "SMOKE-SIGN":
            item.update(outcome="fail", note="Chưa treo biển cấm hút thuốc lá tại sảnh")
        if item["code"] == "OSS-OVERDUE":
            item["number"] = "94,6"
    answers.update(
        findings="Bộ phận một cửa bố trí đủ công chức.",
        assessment="Cơ bản chấp hành tốt.\nCòn 03 người đi muộn.",
        requests="Chấn chỉnh việc đeo thẻ công chức.",
        remediation_due="2026-12-20",
        unit_comments="Đơn vị tiếp thu và khắc phục.",
    )
    response = save(client, secret, visit["id"], answers)
    assert response.status_code == 200, response.json
    person_id = full["people"][1]["person_id"]
    shot = photo(
        client, secret, visit["id"], jpeg(exif_time="2026:12:02 09:09:30"), person_id=person_id
    )
    assert shot.status_code == 201, shot.json
    shot = photo(
        client,
        secret,
        visit["id"],
        jpeg(exif_time="2026:12:02 09:15:00", color=(30, 90, 30)),
        item_code="SMOKE-SIGN",
    )
    assert shot.status_code == 201, shot.json
    for role in ("lead", "secretary"):
        assert sign(client, secret, visit["id"], role).status_code == 200
    if refuse:
        response = sign(
            client, secret, visit["id"], "unit_rep", refused=True, reason="Không đồng ý kết luận"
        )
    else:
        response = sign(client, secret, visit["id"], "unit_rep", position="Chủ tịch")
    assert response.status_code == 200, response.json
    return visit["id"]


def pages(pdf_bytes: bytes):
    """Open the PDF with pdfplumber (imported here: only the layout tests need it)."""
    import pdfplumber

    return pdfplumber.open(io.BytesIO(pdf_bytes))


def lines_of(page) -> list[dict]:
    """Group a page's words into lines: text, x0, x1, top, size (in mm and points)."""
    rows: dict[int, list] = {}
    for word in page.extract_words(extra_attrs=["size", "fontname"], keep_blank_chars=False):
        rows.setdefault(round(word["top"]), []).append(word)
    merged: list[list] = []
    for top in sorted(rows):
        if merged and abs(merged[-1][0]["top"] - top) < 2:
            merged[-1].extend(rows[top])
        else:
            merged.append(list(rows[top]))
    segments = []  # a gap wider than 8 mm parts the header's two columns
    for words in merged:
        words.sort(key=lambda w: w["x0"])
        segments.append([words[0]])
        for word in words[1:]:
            if (word["x0"] - segments[-1][-1]["x1"]) * PT_MM > 8:
                segments.append([word])
            else:
                segments[-1].append(word)
    out = []
    for words in segments:
        out.append(
            {
                "text": " ".join(w["text"] for w in words),
                "words": words,
                "x0": words[0]["x0"] * PT_MM,
                "x1": words[-1]["x1"] * PT_MM,
                "top": min(w["top"] for w in words) * PT_MM,
                "bottom": max(w["bottom"] for w in words) * PT_MM,
                "size": words[0]["size"],
                "font": words[0]["fontname"],
            }
        )
    return out


def centre(line: dict, words: list | None = None) -> float:
    chosen = words or line["words"]
    return (chosen[0]["x0"] + chosen[-1]["x1"]) / 2 * PT_MM


def find(lines: list[dict], text: str) -> dict:
    found = [line for line in lines if text in line["text"]]
    assert found, f"no line holds {text!r}: {[line['text'] for line in lines]}"
    return found[0]


def span(line: dict, first: str, last: str) -> list:
    """The words of ``line`` from the one starting ``first`` to the one ending ``last``."""
    words = line["words"]
    start = next(i for i, w in enumerate(words) if w["text"].startswith(first))
    end = next(i for i in range(len(words) - 1, -1, -1) if words[i]["text"].endswith(last))
    return words[start : end + 1]


def rules(page) -> list[dict]:
    """Horizontal rules drawn on a page (lines and thin rectangles), in mm."""
    found = []
    for shape in [*page.lines, *page.rects]:
        if abs(shape["bottom"] - shape["top"]) < 1.5 and shape["x1"] - shape["x0"] > 5:
            found.append(
                {
                    "x0": shape["x0"] * PT_MM,
                    "x1": shape["x1"] * PT_MM,
                    "top": shape["top"] * PT_MM,
                    "width": (shape["x1"] - shape["x0"]) * PT_MM,
                }
            )
    return found


def column_text(page, heading: str) -> str:
    """The cells of the tables' column headed ``heading`` on this page, one line each."""
    cells = []
    for table in page.extract_tables():
        head = [" ".join((c or "").split()) for c in table[0]]
        if heading in head:
            cells += [" ".join((row[head.index(heading)] or "").split()) for row in table[1:]]
    return "\n".join(cells)
