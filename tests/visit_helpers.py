"""Helpers for tests of visits: start one through the API, build answers, make images."""

import io
import uuid

from PIL import Image
from sqlalchemy import select

from inspection.extensions import db
from inspection.models import Unit


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def unit_id(app, code: str = "TTHCC") -> int:
    with app.app_context():
        return db.session.scalar(select(Unit.id).filter_by(code=code))


def start(client, secret, app, code="TTHCC", **extra) -> dict:
    body = {"client_id": str(uuid.uuid4()), "unit_id": unit_id(app, code), "kind": "surprise"}
    response = client.post("/api/v1/inspections", json={**body, **extra}, headers=bearer(secret))
    assert response.status_code == 201, response.json
    return response.json


def record(client, secret, inspection_id) -> dict:
    response = client.get(f"/api/v1/inspections/{inspection_id}", headers=bearer(secret))
    assert response.status_code == 200, response.json
    return response.json


def save(client, secret, inspection_id, body):
    return client.put(
        f"/api/v1/inspections/{inspection_id}/results", json=body, headers=bearer(secret)
    )


def visit_checklist(client, secret, inspection_id: int) -> dict:
    """The checklist a visit asks (``GET /inspections/{id}/checklist``)."""
    response = client.get(f"/api/v1/inspections/{inspection_id}/checklist", headers=bearer(secret))
    assert response.status_code == 200, response.json
    return response.json


def typed_answer(item: dict) -> dict:
    """A passing answer of a unit item as its type takes it."""
    if item["answer_type"] == "number":
        return {"number": str(int(item["number_min"] or 0))}
    if item["answer_type"] == "choice":
        return {"text": item["choices"][0]}
    if item["answer_type"] == "text":
        return {"text": "Có"}
    return {"outcome": "pass"}


def complete_answers(full: dict, checklist: dict) -> dict:
    """Return a save request answering everything asked: all present, everything passes
    (so no conditional item is asked)."""
    unit_items = [
        {"code": i["code"], **typed_answer(i)}
        for i in checklist["items"]
        if i["scope"] == "unit" and not i.get("ask_when")
    ]
    person_codes = [
        i["code"]
        for i in checklist["items"]
        if i["scope"] == "person" and i["category"] != "attendance"
    ]
    return {
        "version": full["version"],
        "unit_items": unit_items,
        "people": [
            {
                "person_id": p["person_id"],
                "attendance": "present",
                "items": [{"code": c, "outcome": "pass"} for c in person_codes],
            }
            for p in full["people"]
        ],
    }


def jpeg(width=3000, height=2000, exif_time: str | None = None, color=(120, 30, 30)) -> bytes:
    image = Image.new("RGB", (width, height), color)
    buffer = io.BytesIO()
    exif = Image.Exif()
    if exif_time:
        exif.get_ifd(0x8769)[0x9003] = exif_time
    image.save(buffer, "JPEG", exif=exif, quality=90)
    return buffer.getvalue()


def png(width=400, height=300) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (10, 200, 10)).save(buffer, "PNG")
    return buffer.getvalue()


def photo(client, secret, inspection_id, data, filename="anh.jpg", **fields):
    return client.post(
        f"/api/v1/inspections/{inspection_id}/photos",
        data={"file": (io.BytesIO(data), filename), **{k: str(v) for k, v in fields.items()}},
        headers=bearer(secret),
        content_type="multipart/form-data",
    )


def signature_data_url(seed: int = 1) -> str:
    """A drawn signature as a signature pad sends it: a transparent PNG with strokes."""
    import base64

    from PIL import ImageDraw

    image = Image.new("RGBA", (600, 200), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    points = [(40 + i * 25, 100 + ((i * 37 * seed) % 70) - 35) for i in range(20)]
    draw.line(points, fill=(10, 20, 120, 255), width=5, joint="curve")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def blank_signature_data_url() -> str:
    import base64

    buffer = io.BytesIO()
    Image.new("RGBA", (600, 200), (0, 0, 0, 0)).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
