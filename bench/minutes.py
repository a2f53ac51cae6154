"""Finalize a 40-person visit against a bare WeasyPrint render of the same HTML; downloads."""

import statistics
import time
from pathlib import Path

from sqlalchemy import select

from bench import demo_app, row
from inspection.extensions import db
from inspection.models import Inspection, TeamRole, Unit, User
from inspection.pdf import render, signing
from inspection.services import demo, minutes, results, signatures, visits
from inspection.services.audit import Actor

RUNS = 7
UNIT = "TTHC"  # the demo's 40-person town People's Committee


def _answer(item) -> dict:
    """A unit item's answer as its type takes it; SMOKE-SIGN fails."""
    kind = item.answer_type.value
    if kind == "number":
        return {"code": item.code, "number": str(item.number_min or 0)}
    if kind in ("choice", "text"):
        return {"code": item.code, "text": item.choice_list[0] if kind == "choice" else "Có"}
    return {"code": item.code, "outcome": "fail" if item.code == "SMOKE-SIGN" else "pass"}


def _app(folder: Path):
    cert = folder / "bench.p12"
    signing.make_certificate(cert, b"bench", "Bench", "ĐOÀN KIỂM TRA CÔNG VỤ")
    return demo_app(
        folder / "bench.sqlite", SIGNING_P12_PATH=str(cert), SIGNING_P12_PASSPHRASE="bench"
    )


def _ready_visit(n: int) -> Inspection:
    """Start, fill and sign a 40-person visit with a photo, as a real one would be."""
    from tests.visit_helpers import jpeg, signature_data_url

    lead = db.session.scalar(select(User).filter_by(username="truongdoan"))
    secretary = db.session.scalar(select(User).filter_by(username="thuky"))
    actor = Actor(lead.id)
    unit = db.session.scalar(select(Unit).filter_by(code=UNIT))
    visit, _ = visits.start_inspection(
        actor,
        lead,
        unit_id=unit.id,
        kind="surprise",
        client_id=f"bench-{n}",
        team=[(lead.id, TeamRole.LEAD), (secretary.id, TeamRole.SECRETARY)],
    )
    items = results.asked_items(visit)
    results.save_results(
        actor,
        visit,
        {
            "version": visit.version,
            "unit_items": [_answer(i) for i in results.unit_checks(items)],
            "people": [
                {
                    "person_id": p.id,
                    "attendance": "late" if k % 9 == 2 else "present",
                    "items": [
                        {"code": i.code, "outcome": "pass"} for i in results.person_checks(items)
                    ],
                }
                for k, p in enumerate(visit.people)
            ],
            "assessment": "Đơn vị cơ bản chấp hành tốt.",
            "requests": "Chấn chỉnh giờ giấc.",
        },
    )
    results.add_photo(actor, lead, visit, jpeg(1600, 1200), max_bytes=10**7, item_code="SMOKE-SIGN")
    for role, name in (
        ("lead", lead.full_name),
        ("secretary", secretary.full_name),
        ("unit_rep", "Đại diện đơn vị"),
    ):
        signatures.record_signature(
            actor, visit, role, name=name, image=signature_data_url(len(role))
        )
    db.session.commit()
    return visit


def run(folder: Path) -> list[dict]:
    app = _app(folder)
    finalize_times, bare_times = [], []
    with app.test_request_context():
        signer = signing.configured_signer(app.config)
        captured = {}
        original = render.render_html

        def capture(data):
            captured["html"] = original(data)
            return captured["html"]

        render.render_html = capture
        try:
            for n in range(RUNS + 1):
                visit = _ready_visit(n)
                start = time.perf_counter()
                issued = minutes.finalize(
                    Actor(visit.created_by_id),
                    visit,
                    signer=signer,
                    base_url="https://bench.invalid",
                )
                db.session.commit()
                elapsed = time.perf_counter() - start
                # Interleaved, so drift in the machine's speed hits both sides alike.
                start = time.perf_counter()
                render.html_to_pdf(captured["html"])
                if n:  # the first round warms font and template caches for both sides
                    finalize_times.append(elapsed)
                    bare_times.append(time.perf_counter() - start)
        finally:
            render.render_html = original
        inspection_id, people = issued.inspection_id, len(visit.people)

    client = app.test_client()
    token = client.post(
        "/api/v1/tokens", json={"username": "truongdoan", "password": demo.DEMO_PASSWORD}
    ).json["token"]
    downloads = []
    for _ in range(200):
        start = time.perf_counter()
        response = client.get(
            f"/api/v1/inspections/{inspection_id}/minutes.pdf",
            headers={"Authorization": f"Bearer {token}"},
        )
        downloads.append(time.perf_counter() - start)
        assert response.status_code == 200
    p95 = statistics.quantiles(downloads, n=20)[-1] * 1000

    finalize_ms = statistics.median(finalize_times) * 1000
    bare_ms = statistics.median(bare_times) * 1000
    ratio = finalize_ms / bare_ms
    return [
        row(f"finalize {people}-person visit (ms, median of {RUNS})", finalize_ms, bare_ms,
            "ratio<=1.3", ratio <= 1.3),
        row("bare WeasyPrint render of the same HTML (ms)", bare_ms),
        row("download stored minutes p95 (ms, 200 requests)", p95, budget="<20", ok=p95 < 20),
    ]  # fmt: skip
