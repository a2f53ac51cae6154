"""Human labels for the domain's enumerations, translated lazily."""

import enum
import re

from flask import g, has_request_context
from flask_babel import force_locale, get_locale, lazy_pgettext
from flask_babel import lazy_gettext as _l
from wtforms.fields.choices import SelectChoice

from inspection.i18n import format_number
from inspection.models import (
    AnswerType,
    Attendance,
    InspectionKind,
    InspectionStatus,
    ItemCategory,
    ItemScope,
    OutboxStatus,
    Outcome,
    RemediationStatus,
    ReviewDecision,
    Role,
    StaffCategory,
    TeamRole,
    UnitKind,
)
from inspection.models.checklist import ONE_STOP


class _Labels:
    """Labels by enum member. Members of different enums may share a value (Role.UNIT and
    ItemScope.UNIT are both "unit"), so a member finds its own label; a plain value finds
    the first enum's that has it."""

    def __init__(self, pairs):
        self.by_member = {(type(member), member.value): text for member, text in pairs}
        self.by_value = {}
        for member, text in pairs:
            self.by_value.setdefault(member.value, text)

    def _find(self, value):
        if isinstance(value, enum.Enum):
            return self.by_member.get((type(value), value.value))
        return self.by_value.get(value) if isinstance(value, str) else None

    def get(self, value, default=None):
        found = self._find(value)
        return default if found is None else found

    def __getitem__(self, value):
        found = self._find(value)
        if found is None:
            raise KeyError(value)
        return found

    def __contains__(self, value) -> bool:
        return self._find(value) is not None


LABELS = _Labels(
    [
        (UnitKind.DEPARTMENT, _l("Department (phòng, ban)")),
        (UnitKind.COMMUNE, _l("Commune")),
        (UnitKind.TOWN, _l("Town")),
        (UnitKind.WARD, _l("Ward")),
        (UnitKind.ADMIN_CENTRE, _l("Public administration centre")),
        (UnitKind.SCHOOL, _l("School")),
        (UnitKind.OTHER, _l("Other")),
        (StaffCategory.CAN_BO, _l("Cán bộ")),
        (StaffCategory.CONG_CHUC, _l("Công chức")),
        (StaffCategory.VIEN_CHUC, _l("Viên chức")),
        (StaffCategory.HOP_DONG, _l("Contract worker")),
        (Role.ADMIN, _l("Administrator")),
        (Role.OFFICE, _l("Home Affairs office")),
        (Role.INSPECTOR, _l("Inspector")),
        (Role.UNIT, _l("Inspected unit")),
        (ItemCategory.ATTENDANCE, _l("Attendance")),
        (ItemCategory.UNIFORM, _l("Dress")),
        (ItemCategory.BADGE, _l("Badge")),
        (ItemCategory.SMOKING, _l("Smoking")),
        (ItemCategory.ALCOHOL, _l("Alcohol")),
        (ItemCategory.PREMISES, _l("Premises")),
        (ItemCategory.ATTITUDE, _l("Attitude to citizens")),
        (ItemCategory.ONE_STOP, _l("One-stop desk")),
        (ItemCategory.OTHER, _l("Other")),
        (ItemScope.UNIT, _l("Once per visit")),
        (ItemScope.PERSON, _l("For each person")),
        (OutboxStatus.PENDING, _l("Waiting")),
        (OutboxStatus.SENT, _l("Sent")),
        (OutboxStatus.FAILED, _l("Failed")),
        (AnswerType.OUTCOME, _l("Pass / fail / N/A")),
        (AnswerType.NUMBER, _l("Number")),
        (AnswerType.TEXT, _l("Short text")),
        (AnswerType.CHOICE, _l("One of a list")),
        (InspectionKind.SCHEDULED, _l("Scheduled")),
        (InspectionKind.SURPRISE, _l("Surprise")),
        (InspectionStatus.PLANNED, _l("Planned")),
        (InspectionStatus.DRAFT, _l("In progress")),
        (InspectionStatus.SUBMITTED, _l("Waiting for signatures")),
        (InspectionStatus.FINALIZED, _l("Minutes issued")),
        (InspectionStatus.CANCELLED, _l("Cancelled")),
        (TeamRole.LEAD, _l("Team lead")),
        (TeamRole.MEMBER, _l("Member")),
        (TeamRole.SECRETARY, _l("Secretary")),
        (ReviewDecision.ACCEPTED, _l("Accepted")),
        (ReviewDecision.REMEDIATION_REQUIRED, _l("Remediation required")),
        (RemediationStatus.OPEN, _l("Open")),
        (RemediationStatus.ANSWERED, _l("Answered")),
        (RemediationStatus.ACCEPTED, _l("Accepted")),  # same value as ReviewDecision.ACCEPTED
        (RemediationStatus.REOPENED, _l("Reopened")),
        (Outcome.PASS, _l("Pass")),
        (Outcome.FAIL, _l("Fail")),
        (Outcome.NA, _l("N/A")),
        (Attendance.PRESENT, _l("Present")),
        (Attendance.LATE, _l("Late")),
        (Attendance.ABSENT_EXCUSED, _l("Absent with permission")),
        (Attendance.ABSENT_UNEXCUSED, _l("Absent without permission")),
        (Attendance.ON_DUTY, _l("Away on duty")),
    ]
)


# On the roster cards five statuses and three outcomes share a 300 px wide row.
SHORT_LABELS = {
    Attendance.PRESENT: lazy_pgettext("short", "Present"),
    Attendance.LATE: lazy_pgettext("short", "Late"),
    Attendance.ABSENT_EXCUSED: lazy_pgettext("short", "Excused"),
    Attendance.ABSENT_UNEXCUSED: lazy_pgettext("short", "No leave"),
    Attendance.ON_DUTY: lazy_pgettext("short", "On duty"),
    Outcome.PASS: lazy_pgettext("short", "Pass"),
    Outcome.FAIL: lazy_pgettext("short", "Fail"),
    Outcome.NA: lazy_pgettext("short", "N/A"),
}


def _per_request(kind: str, value, compute) -> str:
    """Translate each label once per request: a checklist page asks ~1,400 times."""
    if not has_request_context():
        return compute(value)
    cache = g.setdefault("_labels", {})
    key = (kind, value)
    if key not in cache:
        cache[key] = compute(value)
    return cache[key]


def _short(value) -> str:
    for member, text in SHORT_LABELS.items():
        if member == value:
            return str(text)
    return label(value)


def short_label(value) -> str:
    """Return the short label of an attendance status or outcome (given as value or member)."""
    return _per_request("short", value, _short)


def label(value) -> str:
    """Return the translated label of an enum member (or the value itself)."""
    return _per_request("label", value, lambda v: str(LABELS.get(v, v)))


def request_text(remediation) -> str:
    """What one item of a remediation request asks, in the reader's language: the item's
    label (stored in Vietnamese); requests made before items stood on their own stored
    "<label_vi>: <comment>", whose label is swapped too."""
    item, text = remediation.item, remediation.request
    locale = get_locale().language if has_request_context() else "vi"
    if item is not None and text == item.label_vi:
        return item.label(locale)
    if item is not None and text.startswith(f"{item.label_vi}: "):
        return f"{item.label(locale)}: {text[len(item.label_vi) + 2 :]}"
    return text


def vietnamese(value) -> str:
    """The Vietnamese label, whatever the reader's language (exports and documents)."""
    with force_locale("vi"):
        return str(LABELS.get(value, value))


def applies_choices() -> list[SelectChoice]:
    """What a checklist item or template may be limited to: unit kinds, and units with a
    one-stop desk."""
    return [*choices(UnitKind), SelectChoice(ONE_STOP, ONE_STOP_LABEL)]


ONE_STOP_LABEL = _l("Units with a one-stop desk")


def applies_text(applies_to: str) -> str:
    """'School, Units with a one-stop desk'; empty for every unit."""
    names = {c.value: c.label for c in applies_choices()}
    return ", ".join(str(names.get(w, w)) for w in applies_to.split())


def choices(enum_cls) -> list[SelectChoice]:
    """Return WTForms choices for every member of ``enum_cls``."""
    return [SelectChoice(member.value, LABELS[member]) for member in enum_cls]


# What the audit log records, in words (the codes stay in the log and its export).
AUDIT_ACTIONS = {
    "login": _l("Logged in"),
    "login_failed": _l("Failed login"),
    "logout": _l("Logged out"),
    "logout_everywhere": _l("Logged out everywhere"),
    "password_changed": _l("Password changed"),
    "token_issued": _l("API token issued"),
    "token_revoked": _l("API token revoked"),
    "second_factor_enrolled": _l("Two-step verification turned on"),
    "second_factor_used": _l("Two-step verification code used"),
    "second_factor_failed": _l("Wrong two-step verification code"),
    "recovery_codes_issued": _l("Recovery codes issued"),
    "recovery_code_used": _l("Recovery code used"),
    "second_factor_removed": _l("Two-step verification turned off"),
    "second_factor_reset": _l("Two-step verification reset by an administrator"),
    "user_created": _l("Account created"),
    "user_updated": _l("Account changed"),
    "settings_saved": _l("Organisation settings saved"),
    "seal_saved": _l("Seal saved"),
    "seal_removed": _l("Seal removed"),
    "unit_created": _l("Unit created"),
    "unit_updated": _l("Unit changed"),
    "staff_created": _l("Staff member added"),
    "staff_updated": _l("Staff member changed"),
    "roster_imported": _l("Roster imported"),
    "checklist_version_created": _l("Checklist version created"),
    "checklist_template_saved": _l("Checklist settings changed"),
    "message_retried": _l("Message sent again"),
    "mail_preferences": _l("Email settings changed"),
    "webhook_registered": _l("Webhook registered"),
    "webhook_deleted": _l("Webhook deleted"),
    "webhook_pinged": _l("Webhook test sent"),
    "plan_saved": _l("Annual plan saved"),
    "visit_planned": _l("Visit scheduled"),
    "surprise_drawn": _l("Surprise visit drawn"),
    "inspection_started": _l("Visit started"),
    "results_saved": _l("Answers saved"),
    "person_added": _l("Person added to a visit"),
    "photo_added": _l("Photo added"),
    "inspection_submitted": _l("Visit submitted"),
    "signed": _l("Signed"),
    "signature_refused": _l("Refused to sign"),
    "signatures_voided": _l("Signatures voided by a change"),
    "minutes_issued": _l("Minutes issued"),
    "minutes_extended": _l("Minutes re-timestamped for the long term"),
    "amendment_started": _l("Correction started"),
    "minutes_downloaded": _l("Minutes downloaded"),
    "minutes_acknowledged": _l("Minutes acknowledged"),
    "visit_reviewed": _l("Visit reviewed"),
    "remediation_answered": _l("Remediation answered"),
    "remediation_accepted": _l("Remediation accepted"),
    "remediation_reopened": _l("Remediation reopened"),
    "remediation_follow_up": _l("Follow-up visit planned"),
    "export": _l("Data exported"),
}


def action_label(code: str) -> str:
    """Return the words for an audit action code (the code itself when unknown)."""
    return _per_request("action", code, lambda c: str(AUDIT_ACTIONS.get(c, c)))


# What an audit event is about, and what its details mean, in words.
OBJECT_LABELS = {
    "inspection": _l("Visit"),
    "minutes": _l("Minutes"),
    "signature": _l("Signature"),
    "photo": _l("Photo"),
    "person_result": _l("Person on a visit"),
    "remediation": _l("Remediation request"),
    "review": _l("Review"),
    "user": _l("Account"),
    "api_token": _l("API token"),
    "checklist_version": _l("Checklist version"),
    "checklist_template": _l("Checklist"),
    "outbox": _l("Message"),
    "webhook": _l("Webhook"),
    "org_settings": _l("Organisation settings"),
    "unit": _l("Unit"),
    "staff_member": _l("Staff member"),
    "visit_plan": _l("Visit plan"),
    "export": _l("Export"),
}
DETAIL_LABELS = {
    "active": _l("Active"),
    "amends": _l("Corrects"),
    "content_digest": _l("Content fingerprint"),
    "created": _l("Created"),
    "decision": _l("Decision"),
    "files": _l("Files"),
    "filters": _l("Filters"),
    "format": _l("Format"),
    "inspection_id": _l("Visit"),
    "items": _l("Items"),
    "kind": lazy_pgettext("audit detail", "Kind"),
    "names": _l("Names"),
    "note": _l("Note"),
    "number": _l("Number"),
    "people": _l("People"),
    "role": _l("Role"),
    "roles": _l("Roles"),
    "sha256": "SHA-256",
    "total": _l("Total"),
    "unit_id": _l("Unit"),
    "unit_items": _l("Unit items"),
    "units": _l("Units"),
    "updated": _l("Updated"),
    "username": _l("Username"),
    "version": _l("Version"),
    "weight": _l("Weight"),
    "year": _l("Year"),
    "date_from": _l("From"),
    "date_to": _l("To"),
    "unit_kind": _l("Kind of unit"),
    "action": _l("Action"),
    "object_type": _l("Object"),
    "object_id": _l("Object number"),
    "require_second_factor": _l("Two-step verification required"),
    "second_factor": _l("Two-step verification"),
    "method": _l("Method"),
    "remaining": _l("Left"),
    "count": _l("Count"),
    "via": _l("Through"),
    "applies_to": _l("Applies to"),
    "event": _l("Event"),
    "url": _l("Address"),
    "events": _l("Events"),
    "language": _l("Language"),
    "off": _l("Turned off"),
    "previous_sha256": _l("Previous SHA-256"),
    "level": _l("Signature level"),
    "timestamp_until": _l("Timestamp valid until"),
}
# What a file's PAdES level proves to someone checking it years later (README).
SIGNATURE_LEVELS = {
    "B-B": _l("Signed, without a trusted time: checkable while the certificate is valid"),
    "B-T": _l("Signed with a trusted timestamp"),
    "B-LT": _l("Timestamped, with the certificate chain and revocation data embedded"),
    "B-LTA": _l(
        "Long-term: validation data and a document timestamp, which the issuing body renews"
        " before it expires"
    ),
}
EXPORT_LABELS = {
    "visits": _l("Visits"),
    "unit_results": _l("Unit results"),
    "person_results": _l("Person results"),
    "audit": _l("Audit log"),
    "csv": "CSV",
    "xlsx": "XLSX",
    "unit_rep": _l("The unit's representative"),
    "totp": _l("authenticator app"),
    "api": "API",
}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_REPR = re.compile(r"(\w+)=(?:'([^']*)'|([^,)]+))")


# What a message (an email or a webhook event) is about, in words.
MESSAGE_EVENTS = {
    "minutes.issued": _l("Minutes issued"),
    "minutes.superseded": _l("Minutes replaced by a correction"),
    "minutes.acknowledged": _l("Minutes acknowledged"),
    "visit.reviewed": _l("Visit reviewed"),
    "remediation.required": _l("Fixes required"),
    "remediation.reopened": _l("Remediation reopened"),
    "remediation.answered": _l("Remediation answered"),
    "remediation.closed": _l("Remediation accepted"),
    "reminder.due_soon": _l("Deadline in 3 days"),
    "reminder.overdue": _l("Deadline passed"),
    "signatures.voided": _l("Signatures voided by a change"),
    "webhook.ping": _l("Test event"),
}


def event_label(code: str) -> str:
    return str(MESSAGE_EVENTS.get(code, code))


def object_label(value: str | None) -> str:
    return str(OBJECT_LABELS.get(value, value)) if value else ""


def audit_details(detail: dict, names: dict) -> list[tuple[str, str]]:
    """An audit event's details as (label, text) pairs a reader understands.

    ``names`` maps what ids and codes stand for: {"unit_id": {3: "Phòng Nội vụ"},
    "items": {"SMOKE-SIGN": "Biển cấm hút thuốc"}}. Filters recorded by older releases
    as a Python repr are read back into their fields.
    """
    pairs = []
    for key, value in sorted(detail.items()):
        if key == "filters" and isinstance(value, str) and "(" in value:
            value = {k: a or b for k, a, b in _REPR.findall(value) if (a or b) != "None"}
        text = _detail_text(key, value, names)
        if text:
            pairs.append((str(DETAIL_LABELS.get(key, key)), text))
    return pairs


def _detail_text(key: str, value, names: dict) -> str:
    if isinstance(value, bool):
        return str(_l("yes") if value else _l("no"))
    if isinstance(value, dict):
        return "; ".join(
            f"{DETAIL_LABELS.get(k, k)}: {_detail_text(k, v, names)}" for k, v in value.items() if v
        )
    if isinstance(value, list):
        return ", ".join(_detail_text(key, v, names) for v in value)
    if key in ("unit_id", "unit") and str(value).isdigit():
        return names.get("unit_id", {}).get(int(value), str(value))
    if isinstance(value, str) and value in names.get("items", {}):
        return names["items"][value]
    if isinstance(value, float):
        return format_number(value)
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return f"{value[8:10]}/{value[5:7]}/{value[:4]}"
    if isinstance(value, str) and value in EXPORT_LABELS:
        return str(EXPORT_LABELS[value])
    if isinstance(value, str) and value in LABELS:
        return str(LABELS[value])
    return str(value)
