"""The domain model, one module per aggregate; imported here so Alembic sees every table."""

from inspection.models.accounts import ApiToken, RecoveryCode, Role, User, UserSession
from inspection.models.audit import AuditEvent
from inspection.models.base import Base, utcnow
from inspection.models.blob import Blob
from inspection.models.checklist import (
    AnswerType,
    ChecklistItem,
    ChecklistTemplate,
    ChecklistVersion,
    ItemCategory,
    ItemScope,
)
from inspection.models.minutes import (
    Minutes,
    MinutesCounter,
    MinutesFile,
    Signature,
    SignerRole,
)
from inspection.models.org import OrgSettings, StaffCategory, StaffMember, Unit, UnitKind
from inspection.models.outbox import Channel, DeliveryAttempt, Outbox, OutboxStatus, Webhook
from inspection.models.planning import VisitPlan
from inspection.models.review import (
    Remediation,
    RemediationEvidence,
    RemediationStatus,
    Review,
    ReviewDecision,
)
from inspection.models.stats import PersonFailure, VisitAttendanceStat, VisitCategoryStat
from inspection.models.visit import (
    Attendance,
    Inspection,
    InspectionKind,
    InspectionStatus,
    Outcome,
    PersonItemResult,
    PersonResult,
    Photo,
    TeamMember,
    TeamRole,
    UnitItemResult,
    VisitChecklist,
)

__all__ = [
    "AnswerType",
    "ApiToken",
    "Attendance",
    "AuditEvent",
    "Base",
    "Blob",
    "Channel",
    "ChecklistItem",
    "ChecklistTemplate",
    "ChecklistVersion",
    "DeliveryAttempt",
    "Inspection",
    "InspectionKind",
    "InspectionStatus",
    "ItemCategory",
    "ItemScope",
    "Minutes",
    "MinutesCounter",
    "MinutesFile",
    "OrgSettings",
    "Outbox",
    "OutboxStatus",
    "Outcome",
    "PersonFailure",
    "PersonItemResult",
    "PersonResult",
    "Photo",
    "RecoveryCode",
    "Remediation",
    "RemediationEvidence",
    "RemediationStatus",
    "Review",
    "ReviewDecision",
    "Role",
    "Signature",
    "SignerRole",
    "StaffCategory",
    "StaffMember",
    "TeamMember",
    "TeamRole",
    "Unit",
    "UnitItemResult",
    "UnitKind",
    "User",
    "UserSession",
    "VisitAttendanceStat",
    "VisitCategoryStat",
    "VisitChecklist",
    "VisitPlan",
    "Webhook",
    "utcnow",
]
