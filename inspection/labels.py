"""Human labels for the domain's enumerations, translated lazily."""

from flask import g, has_request_context
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from wtforms.fields.choices import SelectChoice

from inspection.models import (
    Attendance,
    InspectionKind,
    InspectionStatus,
    ItemCategory,
    ItemScope,
    Outcome,
    RemediationStatus,
    ReviewDecision,
    Role,
    StaffCategory,
    TeamRole,
    UnitKind,
)

LABELS = {
    UnitKind.DEPARTMENT: _l("Department (phòng, ban)"),
    UnitKind.COMMUNE: _l("Commune"),
    UnitKind.TOWN: _l("Town"),
    UnitKind.WARD: _l("Ward"),
    UnitKind.ADMIN_CENTRE: _l("Public administration centre"),
    UnitKind.SCHOOL: _l("School"),
    UnitKind.OTHER: _l("Other"),
    StaffCategory.CAN_BO: _l("Cán bộ"),
    StaffCategory.CONG_CHUC: _l("Công chức"),
    StaffCategory.VIEN_CHUC: _l("Viên chức"),
    StaffCategory.HOP_DONG: _l("Contract worker"),
    Role.ADMIN: _l("Administrator"),
    Role.OFFICE: _l("Home Affairs office"),
    Role.INSPECTOR: _l("Inspector"),
    Role.UNIT: _l("Inspected unit"),
    ItemCategory.ATTENDANCE: _l("Attendance"),
    ItemCategory.UNIFORM: _l("Dress"),
    ItemCategory.BADGE: _l("Badge"),
    ItemCategory.SMOKING: _l("Smoking"),
    ItemCategory.ALCOHOL: _l("Alcohol"),
    ItemCategory.PREMISES: _l("Premises"),
    ItemCategory.ATTITUDE: _l("Attitude to citizens"),
    ItemCategory.ONE_STOP: _l("One-stop desk"),
    ItemCategory.OTHER: _l("Other"),
    ItemScope.UNIT: _l("Once per visit"),
    ItemScope.PERSON: _l("For each person"),
    InspectionKind.SCHEDULED: _l("Scheduled"),
    InspectionKind.SURPRISE: _l("Surprise"),
    InspectionStatus.PLANNED: _l("Planned"),
    InspectionStatus.DRAFT: _l("In progress"),
    InspectionStatus.SUBMITTED: _l("Waiting for signatures"),
    InspectionStatus.FINALIZED: _l("Minutes issued"),
    InspectionStatus.CANCELLED: _l("Cancelled"),
    TeamRole.LEAD: _l("Team lead"),
    TeamRole.MEMBER: _l("Member"),
    TeamRole.SECRETARY: _l("Secretary"),
    ReviewDecision.ACCEPTED: _l("Accepted"),
    ReviewDecision.REMEDIATION_REQUIRED: _l("Remediation required"),
    RemediationStatus.OPEN: _l("Open"),
    RemediationStatus.ANSWERED: _l("Answered"),
    RemediationStatus.ACCEPTED: _l("Accepted"),  # same value as ReviewDecision.ACCEPTED
    RemediationStatus.REOPENED: _l("Reopened"),
    Outcome.PASS: _l("Pass"),
    Outcome.FAIL: _l("Fail"),
    Outcome.NA: _l("N/A"),
    Attendance.PRESENT: _l("Present"),
    Attendance.LATE: _l("Late"),
    Attendance.ABSENT_EXCUSED: _l("Absent with permission"),
    Attendance.ABSENT_UNEXCUSED: _l("Absent without permission"),
    Attendance.ON_DUTY: _l("Away on duty"),
}


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
