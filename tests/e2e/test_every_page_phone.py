"""Every page of every role on a 360x740 phone: no sideways scroll, no tap target under
44 px, no word broken mid-letter. The pages are found from the app's routes, so a new
page is tested as soon as it exists (or named below as not a page)."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from inspection.extensions import db
from inspection.i18n import local_today
from inspection.models import (
    Channel,
    DeliveryAttempt,
    Outbox,
    OutboxStatus,
    Remediation,
    Review,
    StaffMember,
    Unit,
    User,
    Webhook,
)
from tests.e2e.conftest import no_horizontal_scroll, small_tap_targets
from tests.e2e.test_review_phone import _issued_visit, _login
from tests.visit_helpers import bearer, record, save, start

# GET routes that answer with something other than a page (files, feeds, redirects).
NOT_PAGES = {
    "static",
    "main.index",  # redirects to the role's home
    "main.healthz",
    "pwa.manifest",
    "pwa.service_worker",
    "auth.set_language",
    "auth.second_step",  # only within a login that needs a code (test_second_factor_phone)
    "files.evidence",
    "files.minutes_pdf",
    "files.photo",
    "files.thumbnail",
    "inspector.draft_pdf",
    "office.audit_export",
    "office.export",
    "office.report_pdf",
    "admin.export_checklist",
    "admin.seal_image",
    "verify.certificate",
}

# An element narrower than a word in it breaks that word mid-letter (or overflows). Long
# tokens that no phone width holds are left out: addresses, hashes, codes.
WORD_BREAKS = """(selector) => {
    const canvas = document.createElement('canvas');
    const measure = canvas.getContext('2d');
    const found = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
        const node = walker.currentNode;
        const el = node.parentElement;
        if (!el || el.closest('[hidden], .sr, script, style, option, select, textarea')) continue;
        if (!el.getClientRects().length) continue;
        const style = getComputedStyle(el);
        if (style.visibility === 'hidden') continue;
        // A line may break at a space or after a hyphen ("SHA-" / "256"), not in a word.
        const words = node.textContent.split(/\\s+|(?<=-)/).filter(
            (w) => w.length > 1 && w.length <= 24 && !/[\\/@=]|^[0-9A-Za-z_-]{16,}$/.test(w));
        if (!words.length) continue;
        const { fontStyle, fontWeight, fontSize, fontFamily } = style;
        measure.font = `${fontStyle} ${fontWeight} ${fontSize} ${fontFamily}`;
        let box = el;
        while (box.parentElement && getComputedStyle(box).display.startsWith('inline')) {
            box = box.parentElement;
        }
        const boxStyle = getComputedStyle(box);
        const padding = parseFloat(boxStyle.paddingLeft) + parseFloat(boxStyle.paddingRight);
        const room = box.clientWidth - padding;
        if (room <= 0) continue;
        for (const word of words) {
            const text = style.textTransform === 'uppercase' ? word.toUpperCase() : word;
            const need = measure.measureText(text).width;
            if (need > room + 1) {
                const where = `${box.tagName.toLowerCase()}.${box.className}`;
                const sizes = `needs ${Math.round(need)} px, has ${Math.round(room)}`;
                found.push(`${where}: "${word}" ${sizes}`);
                break;
            }
        }
    }
    return [...new Set(found)];
}"""


def check_page(page) -> list[str]:
    problems = []
    if not no_horizontal_scroll(page):
        width = page.evaluate("document.documentElement.scrollWidth")
        problems.append(f"scrolls sideways ({width} px)")
    problems += [f"small tap target {t}" for t in small_tap_targets(page)]
    problems += [f"word broken {w}" for w in page.evaluate(WORD_BREAKS, None)]
    return problems


@pytest.fixture
def world(app, client, token):
    """What every page needs to show something: an issued visit with a photo, a review
    asking three fixes (one answered), a draft visit, a plan for tomorrow."""
    visit_id = _issued_visit(client, token, app)
    office, unit, lead = token("noivu"), token("donvi1"), token("truongdoan")
    due = (local_today() + timedelta(days=10)).isoformat()
    reviewed = client.post(
        f"/api/v1/inspections/{visit_id}/review",
        json={
            "decision": "remediation_required",
            "comment": "Khắc phục và báo cáo bằng văn bản.",
            "due": due,
            "item_codes": ["SMOKE-SIGN", "ALC-RULE", "PREM-SIGNS"],
        },
        headers=bearer(office),
    )
    assert reviewed.status_code == 201, reviewed.json
    first = reviewed.json["remediations"][0]["id"]
    answered = client.post(
        f"/api/v1/remediations/{first}/response",
        data={"response": "Đã treo biển cấm hút thuốc lá tại sảnh tầng 1."},
        headers=bearer(unit),
        content_type="multipart/form-data",
    )
    assert answered.status_code == 200, answered.json
    draft = start(client, lead, app, code="TTHCC")
    full = record(client, lead, draft["id"])
    body = {
        "version": full["version"],
        "people": [{"person_id": full["people"][0]["person_id"], "attendance": "late"}],
        "findings": "Phòng tiếp công dân chưa có lịch tiếp.",
    }
    assert save(client, lead, draft["id"], body).status_code == 200
    with app.app_context():
        from inspection.services import planning
        from inspection.services.audit import SYSTEM

        truongdoan = db.session.scalar(select(User).filter_by(username="truongdoan"))
        centre = db.session.scalar(select(Unit).filter_by(code="TTHCC"))
        planning.schedule_visit(
            SYSTEM,
            truongdoan,
            unit_id=db.session.scalar(select(Unit.id).filter_by(code="XHS")),
            kind="scheduled",
            planned_date=local_today() + timedelta(days=1),
            team=[(truongdoan.id, "lead")],
            today=local_today(),
        )
        review_row = db.session.scalar(select(Review).filter_by(inspection_id=visit_id))
        hook = Webhook(
            url="https://vbdh.binhxuyen.example/api/hooks/kiem-tra-cong-vu",
            events="minutes.issued minutes.superseded visit.reviewed",
            description="Hệ thống quản lý văn bản và điều hành của huyện",
            secret="whsec_" + "A" * 44,
        )
        db.session.add(hook)
        db.session.flush()
        delivered = Outbox(
            channel=Channel.WEBHOOK,
            event="minutes.issued",
            webhook_id=hook.id,
            address=hook.url,
            subject="minutes.issued",
            body_text="{}",
            status=OutboxStatus.SENT,
        )
        delivered.attempts_log = [
            DeliveryAttempt(
                status_code=500, duration_ms=231, error="HTTP 500 Internal Server Error"
            ),
            DeliveryAttempt(status_code=204, duration_ms=87, ok=True),
        ]
        db.session.add(delivered)
        values = {
            "inspection_id": visit_id,
            "draft_id": draft["id"],
            "remediation_id": first,
            "review_id": review_row.id,
            "webhook_id": hook.id,
            "unit_id": centre.id,
            "staff_id": db.session.scalar(
                select(StaffMember.id).filter_by(unit_id=centre.id).order_by(StaffMember.id)
            ),
            "user_id": truongdoan.id,
            "template_id": 1,
            "number": 1,
            "code": "SMOKE-SIGN",
            "verify_code": db.session.scalar(select(Remediation).filter_by(id=first))
            .inspection.minutes[-1]
            .verify_code,
        }
        db.session.commit()
    return values


def _pages(app, world) -> dict[str, list[str]]:
    """The pages of each role, with the route each one is."""
    v = world
    pages = {
        None: [
            ("auth.login", "/login"),
            ("verify.upload", "/verify"),
            ("verify.by_code", f"/verify/{v['verify_code']}"),
        ],
        "truongdoan": [
            ("inspector.index", "/inspector/"),
            ("inspector.offline_page", "/inspector/offline"),
            ("inspector.outbox", "/inspector/outbox"),
            ("inspector.start", "/inspector/start"),
            ("inspector.draft_visit", f"/inspector/units/{v['unit_id']}/new"),
            ("inspector.draft_sign", f"/inspector/units/{v['unit_id']}/new/sign"),
            ("inspector.visit", f"/inspector/visits/{v['draft_id']}"),
            ("inspector.summary", f"/inspector/visits/{v['draft_id']}/summary"),
            ("inspector.sign", f"/inspector/visits/{v['draft_id']}/sign"),
            ("auth.account", "/account"),
            ("auth.enrol", "/account/second-factor"),
        ],
        "donvi1": [
            ("unit.index", "/unit/"),
            ("unit.request_page", f"/unit/requests/{v['review_id']}"),
            ("unit.remediation", f"/unit/remediations/{v['remediation_id']}"),
            ("auth.account", "/account"),
        ],
        "noivu": [
            ("office.index", "/office/"),
            ("office.visit", f"/office/visits/{v['inspection_id']}"),
            ("office.remediations", "/office/remediations"),
            ("office.remediation", f"/office/remediations/{v['remediation_id']}"),
            ("office.dashboard", "/office/dashboard"),
            ("office.report", "/office/report"),
            ("office.plan", "/office/plan"),
            ("office.schedule", "/office/plan/visits/new"),
            ("office.person", f"/office/people/{v['staff_id']}"),
            ("office.audit_log", "/office/audit"),
            ("auth.account", "/account"),
        ],
        "admin": [
            ("admin.index", "/admin/"),
            ("admin.settings", "/admin/settings"),
            ("admin.seal", "/admin/settings/seal"),
            ("admin.units", "/admin/units"),
            ("admin.unit", f"/admin/units/{v['unit_id']}"),
            ("admin.unit_form", f"/admin/units/{v['unit_id']}/edit"),
            ("admin.unit_form", "/admin/units/new"),
            ("admin.import_staff", f"/admin/units/{v['unit_id']}/import"),
            ("admin.staff_form", f"/admin/units/{v['unit_id']}/staff/new"),
            ("admin.staff_form", f"/admin/staff/{v['staff_id']}/edit"),
            ("admin.users", "/admin/users"),
            ("admin.messages", "/admin/messages"),
            ("admin.webhooks", "/admin/webhooks"),
            ("admin.webhook", f"/admin/webhooks/{v['webhook_id']}"),
            ("admin.user_form", f"/admin/users/{v['user_id']}/edit"),
            ("admin.user_form", "/admin/users/new"),
            ("admin.checklists", "/admin/checklists"),
            ("admin.new_checklist", "/admin/checklists/new"),
            ("admin.checklist_version", "/admin/checklists/1"),
            ("admin.checklist_version", "/admin/checklists/1/v1"),
            ("admin.checklist_settings", "/admin/checklists/1/settings"),
            ("admin.import_checklist", "/admin/checklists/1/import"),
            ("admin.checklist_item", "/admin/checklists/1/items/new"),
            ("admin.checklist_item", "/admin/checklists/1/items/SMOKE-SIGN/edit"),
            ("office.audit_log", "/office/audit?page=1"),
            ("auth.account", "/account"),
        ],
    }
    covered = {endpoint for role in pages.values() for endpoint, _path in role}
    pages_in_app = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and not rule.endpoint.startswith("api.")
    } - NOT_PAGES
    assert pages_in_app - covered == set(), "a page no test opens at 360 px"
    return pages


def test_every_page_of_every_role_reads_on_a_phone(phone, live_server, app, world):
    problems = []
    for who, pages in _pages(app, world).items():
        if who:
            _login(phone, live_server, who)
        else:
            phone.context.clear_cookies()
        for _endpoint, path in pages:
            response = phone.goto(live_server + path)
            assert response.status == 200, (who, path, response.status)
            phone.wait_for_load_state("networkidle")
            problems += [f"{who} {path}: {p}" for p in check_page(phone)]
    # The pages after a refused import: their problems, row by row, in a phone's width.
    _login(phone, live_server, "admin")
    bad_roster = "Họ và tên,Loại,Số thẻ\nNguyễn Văn Phòng Nội vụ Bình Xuyên,giám đốc,X1\n"
    phone.goto(f"{live_server}/admin/units/{world['unit_id']}/import")
    phone.set_input_files(
        "input[type=file]",
        files=[{"name": "danh-sach.csv", "mimeType": "text/csv", "buffer": bad_roster.encode()}],
    )
    phone.get_by_role("button", name="Nhập").tap()
    phone.wait_for_selector(".problems li")
    problems += [f"admin roster import errors: {p}" for p in check_page(phone)]
    problems = [p for p in problems if not re.search(r"\bsr\b", p)]
    assert problems == [], "\n".join(problems)
    print(f"\n{sum(len(p) for p in _pages(app, world).values()) + 1} pages checked at 360x740")
