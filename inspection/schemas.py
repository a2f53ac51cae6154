"""The JSON API's shapes, declared once: they validate each request (spectree, pydantic),
check each answer, and are the OpenAPI 3.1 document at /api/v1/openapi.json.

Shapes only: types, required fields, lengths, enum values (from the models' StrEnums).
What needs the database (a code in this visit's checklist version, a person on this
visit's roster, the visit's version, a number within an item's bounds) is checked by the
services, which report it under the same field paths (``people[3].items[0].code``).
"""

import re
from datetime import date
from typing import Annotated, Any, Literal

from flask import current_app
from flask_babel import lazy_gettext as _l
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
)
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import PydanticCustomError
from spectree import Response as Answers
from spectree import SecurityScheme, SecuritySchemeData, SpecTree
from spectree.models import SecureType

from inspection.i18n import FIRST_DAY, LAST_DAY, parse_client_time
from inspection.models import (
    AnswerType,
    Attendance,
    InspectionKind,
    InspectionStatus,
    ItemCategory,
    ItemScope,
    Outcome,
    RemediationStatus,
    ReviewDecision,
    Role,
    SignerRole,
    StaffCategory,
    TeamRole,
    UnitKind,
)
from inspection.services.errors import ServiceError
from inspection.services.webhooks import EVENTS as WEBHOOK_EVENTS

MAX_NOTE = 2000
MAX_ANSWER = 500  # a text or choice item's answer
MAX_TEXT = 20000


class Shape(BaseModel):
    """A request body or query: unknown keys are ignored, NaN and Infinity refused."""

    model_config = ConfigDict(allow_inf_nan=False, use_enum_values=False)


def _no_defaults(schema: dict) -> None:
    """Leave the defaults out of a partial save's document: a field not sent is not changed,
    so a generated client must not send a default ("" would clear a note)."""
    for field in schema.get("properties", {}).values():
        field.pop("default", None)


class Closed(Shape):
    """A shape that refuses keys it does not name (a typo must not be a silent no-op).

    Its fields are all optional but the ones named required; one that is not sent leaves
    what is stored as it is (``ResultsSave.changes``)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_no_defaults)


class Answer(BaseModel):
    """An answer's shape: every key it sends is declared, so the document stays complete."""

    model_config = ConfigDict(extra="forbid")


def _on_duty(value):
    """Attendance ``on_duty``; the figures once called it ``away_on_duty``: accepted too."""
    return Attendance.ON_DUTY.value if value == "away_on_duty" else value


def _readable_time(value: str | None) -> str | None:
    if value is not None and parse_client_time(value) is None:
        raise PydanticCustomError("datetime_invalid", "not a time this server can hold")
    return value


Id = Annotated[StrictInt, Field(ge=1, le=2**31 - 1)]
# The phone's clock, ISO 8601 (local time when it has no offset).
ClientTime = Annotated[
    str | None,
    Field(max_length=64, json_schema_extra={"format": "date-time"}),
    AfterValidator(_readable_time),
]
QueryId = Annotated[int, Field(ge=1, le=2**31 - 1)]  # a query string's digits
Note = Annotated[str, Field(max_length=MAX_NOTE)]
LongText = Annotated[str, Field(max_length=MAX_TEXT)]
AttendanceIn = Annotated[Attendance | None, BeforeValidator(_on_duty)]
SupportedDate = Annotated[date, Field(ge=FIRST_DAY, le=LAST_DAY)]


# ---- errors ----


class ErrorDetail(Answer):
    code: str
    message: str
    fields: dict[str, str] | None = None


class Error(Answer):
    """Every error: ``{"error": {"code", "message", "fields"}}`` (DESIGN.md)."""

    error: ErrorDetail


class InvalidRequest(ServiceError):
    """A request that does not have the declared shape: 422 with a message per field."""


_MESSAGES = {
    "missing": _l("Required."),
    "string_type": _l("Must be text."),
    "string_too_short": _l("Required."),
    "int_type": _l("Must be a whole number."),
    "int_parsing": _l("Must be a whole number."),
    "int_from_float": _l("Must be a whole number."),
    "float_type": _l("Enter a number, such as 92,5."),
    "float_parsing": _l("Enter a number, such as 92,5."),
    "finite_number": _l("Enter a number, such as 92,5."),
    "bool_type": _l("true or false."),
    "bool_parsing": _l("true or false."),
    "list_type": _l("Must be a list of objects."),
    "model_type": _l("Must be an object."),
    "model_attributes_type": _l("Must be an object."),
    "dict_type": _l("Must be an object."),
    "extra_forbidden": _l("Unknown field."),
    "date_type": _l("Enter a date as YYYY-MM-DD."),
    "date_parsing": _l("Enter a date as YYYY-MM-DD."),
    "date_from_datetime_parsing": _l("Enter a date as YYYY-MM-DD."),
    "date_from_datetime_inexact": _l("Enter a date as YYYY-MM-DD."),
    "datetime_invalid": _l("Enter a time as YYYY-MM-DDTHH:MM."),
}
_ENUM_MESSAGES = {
    "outcome": _l("Unknown outcome: use pass, fail or na."),
    "attendance": _l(
        "Unknown attendance: use present, late, absent_excused, absent_unexcused or on_duty."
    ),
}


def field_path(loc: tuple) -> str:
    """``("people", 3, "items", 0, "code")`` -> ``people[3].items[0].code``."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def _one_of(ctx: dict) -> str:
    """Return "One of: a, b, c." from pydantic's "'a', 'b' or 'c'"."""
    values = ctx.get("expected", "").replace(" or ", ", ").replace("'", "")
    return str(_l("One of: %(values)s.", values=values))


def _message(error: dict) -> str:
    kind, loc, ctx = error["type"], error["loc"], error.get("ctx") or {}
    if kind == "string_too_long":
        return str(_l("At most %(n)d characters.", n=ctx.get("max_length", 0)))
    if kind == "enum":
        named = next((p for p in reversed(loc) if isinstance(p, str)), "")
        if named in _ENUM_MESSAGES:
            return str(_ENUM_MESSAGES[named])
        return _one_of(ctx)
    if kind == "literal_error":
        return _one_of(ctx)
    if kind in ("greater_than_equal", "less_than_equal"):
        bound = ctx.get("ge", ctx.get("le"))
        if isinstance(bound, date) or _ISO_DAY.match(str(bound)):
            return str(_l("Enter a date from 2000 to 2100."))
        named = next((p for p in reversed(loc) if isinstance(p, str)), "")
        return str(_l("Not found.") if named.endswith("id") else _l("Must be a whole number."))
    return str(_MESSAGES.get(kind, _l("Not valid.")))


# Fields whose errors are reported for the whole field, with one message.
WHOLE = {
    ("InspectionCreate", "team"): _l(
        "A list of {user_id, role} with role lead, member or secretary."
    ),
}


def invalid(error: PydanticValidationError) -> InvalidRequest:
    """Return the 422 for a request that failed its shape, one message per field path."""
    fields: dict[str, str] = {}
    for entry in error.errors():
        # A union reports each member; the path stops at the field, not at the member.
        loc = tuple(p for p in entry["loc"] if not _is_union_member(p))
        whole = WHOLE.get((error.title, loc[0])) if loc else None
        if whole is not None:
            fields.setdefault(str(loc[0]), str(whole))
        else:
            fields.setdefault(field_path(loc) or "body", _message(entry))
    return InvalidRequest(str(_l("Some values are not valid.")), fields)


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_TYPE_TAGS = {"str", "int", "float", "bool", "date", "datetime", "none"}


def _is_union_member(part) -> bool:
    """Return whether ``part`` names the union member an error tried (``str``, ``literal['']``),
    not a field."""
    return isinstance(part, str) and (part in _TYPE_TAGS or "[" in part or "(" in part)


class NotJson(ServiceError):
    status = 400
    code = "bad_request"


# Operations whose body may be left out: every field of their shape is optional.
BODY_MAY_BE_EMPTY = {"Finalize"}


def _refuse_invalid(req, resp, req_validation_error, instance, model_adapter) -> None:
    """Turn a request of the wrong shape into the usual error envelope (spectree's hook).

    It runs after the view's decorators loaded what the URL names, so someone else's
    visit is a 404 whatever the body says. A body that is not a JSON object is a 400.
    """
    declared = spec.get_function_metadata(current_app.view_functions[req.endpoint])
    if declared is not None and declared.json is not None and req.method != "GET":
        empty_allowed = declared.json in BODY_MAY_BE_EMPTY and not req.content_length
        if not empty_allowed and not isinstance(req.get_json(silent=True), dict):
            raise NotJson(str(_l("Send a JSON object.")))
    if req_validation_error is not None:
        raise invalid(req_validation_error)


# ---- the document ----

spec = SpecTree(
    "flask",
    mode="strict",
    title="Kiểm tra công vụ API",
    version="1",
    description="Token auth: POST /api/v1/tokens, then Authorization: Bearer <token>."
    " Errors are {error: {code, message, fields}}; fields name the JSON path.",
    openapi_version="3.1.0",
    annotations=True,
    before=_refuse_invalid,
    validation_error_model=Error,
    security_schemes=[
        SecurityScheme(
            name="bearer", data=SecuritySchemeData(type=SecureType.HTTP, scheme="bearer")
        ),
    ],
    security={"bearer": []},
    naming_strategy=lambda model: model.__name__,
    nested_naming_strategy=lambda _parent, child: child,
)
PUBLIC: dict = {}  # an operation anyone may call: no token


def answers(ok: int | dict, model=None, *errors: int) -> Answers:
    """Return the answers an operation gives: ``ok`` (a status, or statuses to models)
    with ``model``, and the listed error statuses with the error envelope. Every operation
    may answer 400: a query or form value holding a NUL character is refused before any
    view runs (``boundary._refuse_nul``)."""
    if isinstance(ok, dict):  # several successes: what follows are all error statuses
        success, errors = ok, ((model,) if model is not None else ()) + errors
    else:
        success = {ok: model}
    codes = {f"HTTP_{status}": shape for status, shape in success.items()}
    codes.update({f"HTTP_{status}": Error for status in sorted({400, *errors})})
    return Answers(**codes)


AUTH = (401, 403)


# ---- accounts ----


class TokenRequest(Shape):
    username: Annotated[str, Field(min_length=1, max_length=200)]
    password: Annotated[str, Field(min_length=1, max_length=200)]
    name: Annotated[str, Field(max_length=100, description="A label to recognise the token by")] = (
        "API"
    )
    otp: Annotated[
        str | None,
        Field(
            max_length=32,
            description="Accounts with two-step verification: the 6-digit code from the"
            " authenticator app, or an unused recovery code",
        ),
    ] = None


class User(Answer):
    id: int
    username: str
    full_name: str
    role: Role
    unit_id: int | None
    email: str | None = Field(description="Where the account is told what needs it.")
    second_factor: bool = Field(description="Two-step verification is on")
    csrf_token: str | None = Field(
        None, description="Cookie sessions only: the token for X-CSRFToken on writes."
    )


class Token(Answer):
    token: str
    expires_at: str = Field(json_schema_extra={"format": "date-time"})
    user: User


# ---- reference data ----


class UnitOut(Answer):
    id: int
    code: str
    name: str
    kind: UnitKind
    has_one_stop: bool = Field(description="The unit has a one-stop desk (bộ phận một cửa).")


class UnitList(Answer):
    items: list[UnitOut]


class StaffOut(Answer):
    id: int
    full_name: str
    position: str
    category: StaffCategory
    badge_no: str | None


class StaffList(Answer):
    items: list[StaffOut]


class Condition(Answer):
    code: str = Field(description="The unit item whose answer asks this one.")
    answers: list[str] = Field(description="The answers (outcomes or choices) that ask it.")


class ChecklistItemOut(Answer):
    code: str
    template: str = Field(description="The code of the template the item belongs to.")
    category: ItemCategory
    scope: ItemScope
    label: str
    legal_basis: str
    required: bool
    answer_type: AnswerType = Field(
        description="outcome: pass/fail/na in `outcome` (and a number in `number` when"
        " number_label is set); number: `number`; text: `text`; choice: `text`, one of"
        " `choices`."
    )
    choices: list[str]
    number_label: str | None
    number_unit: str
    number_min: float | None
    number_max: float | None
    applies_to: list[str] = Field(
        description="Unit kinds, and one_stop for units with a one-stop desk, the item is"
        " asked of; empty for every unit."
    )
    ask_when: Condition | None = Field(
        description="Set on an item asked only after another answer. While not asked it"
        " takes no answer (422), is never missing, and its answer is cleared."
    )
    derived_from: Literal["attendance"] | None = Field(
        description="Set on items answered through another answer (ATT-PRESENT follows the"
        " person's attendance). Such an item may be sent with the outcome that answer gives"
        " it (no change); a contradicting outcome is 422."
    )


class ChecklistVersionOut(Answer):
    id: int
    template: str
    name: str
    version: int


class Checklist(Answer):
    id: int = Field(description="The first checklist version's id (the general template).")
    version: int
    unit_id: int | None = Field(
        description="The unit the items apply to; null lists every active template's items."
    )
    checklists: list[ChecklistVersionOut]
    items: list[ChecklistItemOut]


class ChecklistQuery(Shape):
    unit_id: int | None = Field(
        None, description="List only what a visit started now at this unit asks."
    )


class VisitChecklistItemOut(ChecklistItemOut):
    asked: bool = Field(description="Whether the answers so far ask this item.")


class VisitChecklist(Answer):
    checklists: list[ChecklistVersionOut]
    items: list[VisitChecklistItemOut]


# ---- visits ----


class TeamMemberIn(Shape):
    user_id: Id
    role: TeamRole


class Location(Shape):
    latitude: float
    longitude: float
    accuracy: float | None = None


class InspectionCreate(Shape):
    client_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")]
    unit_id: StrictInt
    kind: InspectionKind = InspectionKind.SURPRISE
    team: list[TeamMemberIn] | None = None
    client_started_at: ClientTime = None
    started_offline: StrictBool = Field(
        False,
        description="The phone started the visit with no connection: the visit began at"
        " client_started_at (if within the last 3 days).",
    )
    location: Location | None = None
    templates: list[Annotated[str, Field(max_length=32)]] | None = Field(
        None,
        max_length=50,
        description="The checklist templates to ask, by code; by default those that apply"
        " to the unit (see GET /checklists/current?unit_id=).",
    )


class InspectionQuery(Shape):
    status: InspectionStatus | None = None
    unit_id: int | None = Field(None, description="An id of no unit lists nothing.")


class TeamMemberOut(Answer):
    user_id: int
    full_name: str
    role: TeamRole


class Inspection(Answer):
    id: int
    status: InspectionStatus
    version: int
    unit_id: int
    unit_name: str
    kind: InspectionKind
    planned_date: date | None
    started_at: str | None = Field(json_schema_extra={"format": "date-time"})
    ended_at: str | None = Field(
        json_schema_extra={"format": "date-time"},
        description="When the visit ended (set by the team lead; local time).",
    )
    finished_at: str | None = Field(json_schema_extra={"format": "date-time"})
    checklist_version_id: int
    team: list[TeamMemberOut]


class InspectionList(Answer):
    items: list[Inspection]


class UnitItemOut(Answer):
    code: str
    outcome: Outcome | None
    note: str
    number: float | None
    text: str | None = Field(description="The answer of a text or choice item.")


class PersonItemOut(Answer):
    code: str
    outcome: Outcome | None
    note: str


class PersonOut(Answer):
    person_id: int
    staff_id: int | None
    full_name: str
    position: str
    attendance: Attendance | None
    arrived_at: str | None = Field(description="When a late person arrived, HH:MM local time.")
    note: str
    items: list[PersonItemOut]


class Photo(Answer):
    id: int
    sha256: str
    item_code: str | None
    person_id: int | None
    captured_at: str | None = Field(json_schema_extra={"format": "date-time"})
    url: str
    thumb_url: str


class InspectionFull(Inspection):
    unit_items: list[UnitItemOut]
    people: list[PersonOut]
    findings: str
    assessment: str
    requests: str
    unit_comments: str
    remediation_due: date | None
    content_digest: str = Field(
        description="SHA-256 of the answers and texts: what a signature given now is bound to."
    )
    photos: list[Photo]


class UnitItemIn(Closed):
    code: str
    outcome: Outcome | None = None
    note: Note = ""
    number: StrictFloat | StrictInt | str | None = Field(
        None,
        description="On number items, and on pass/fail items with a number_label; within"
        ' number_min..number_max; two decimals at most; text may use a comma ("92,5") or a'
        ' point ("92.5").',
    )
    text: Annotated[str | None, Field(max_length=MAX_ANSWER)] = Field(
        None, description="The answer of a text item, or one of a choice item's choices."
    )


class PersonItemIn(Closed):
    code: str
    outcome: Outcome | None = None
    note: Note = ""


class PersonIn(Closed):
    """Name the person by ``staff_id`` (roster) or ``person_id``."""

    # Any value is read: one that names nobody on the visit is the service's 422 for
    # ``people[n]`` ("not on the roster"), as for an id of someone else's unit.
    staff_id: Annotated[Any, Field(json_schema_extra={"type": "integer"})] = None
    person_id: Annotated[Any, Field(json_schema_extra={"type": "integer"})] = None
    attendance: AttendanceIn = None
    arrived_at: Annotated[str | None, Field(max_length=8)] = Field(
        None, description="When a late person arrived, HH:MM local time; null clears it."
    )
    note: Note = ""
    items: list[PersonItemIn] = []


class ResultsSave(Closed):
    """A partial save: only the answers and texts it lists change."""

    version: StrictInt = Field(description="The visit version the change was based on")
    unit_items: list[UnitItemIn] = []
    people: list[PersonIn] = []
    findings: LongText = ""
    assessment: LongText = ""
    requests: LongText = ""
    unit_comments: LongText = ""
    remediation_due: SupportedDate | Literal[""] | None = None
    ended_at: Annotated[str | None, Field(max_length=64)] = Field(
        None,
        json_schema_extra={"format": "date-time"},
        description="When the visit ended (the team lead's; local time if no offset). Never"
        " before the start or in the future.",
    )

    @classmethod
    def parse(cls, data: dict) -> "ResultsSave":
        """Read a save given as plain data (the checklist page, the demo); 422 per field."""
        try:
            return cls.model_validate(data)
        except PydanticValidationError as error:
            raise invalid(error) from error

    def changes(self) -> dict[str, Any]:
        """Return the save as the service takes it: only what was sent, enums as members."""
        return self.model_dump(exclude_unset=True)


class Version(Answer):
    version: int


class PersonCreate(Shape):
    full_name: Annotated[str, Field(min_length=1, max_length=120)]
    position: Annotated[str, Field(max_length=120)] = ""
    client_id: Annotated[str, Field(max_length=64, pattern=r"^[^\x00-\x1f\x7f]*$")] = ""


class PersonCreated(Answer):
    person_id: int
    version: int


class PhotoUpload(Shape):
    file: Any = Field(json_schema_extra={"type": "string", "format": "binary"})
    item_code: str | None = None
    staff_id: QueryId | None = None
    person_id: QueryId | None = None
    captured_at: ClientTime = None
    client_id: Annotated[str | None, Field(max_length=64, pattern=r"^[^\x00-\x1f\x7f]*$")] = None


class PhotoStored(Photo):
    version: int


# ---- signatures and minutes ----


class SignatureSave(Shape):
    name: Annotated[str, Field(max_length=120)] = ""
    position: Annotated[str, Field(max_length=120)] = ""
    image: str | None = Field(None, description="data:image/png;base64,...")
    refused: StrictBool = Field(False, description="Only for role unit_rep")
    reason: Note = ""
    content_version: StrictInt | None = Field(
        None, description="The visit version the signer's phone showed."
    )
    content_digest: str | None = Field(
        None,
        description="SHA-256 of the content the phone held when the signer signed (as"
        " content_digest of the visit). When the server's content differs, 409: the signer"
        " must sign again. Without it the signature is bound to the server's content now.",
    )


class SignatureSaved(Answer):
    role: SignerRole
    name: str
    refused: bool
    signed_at: str | None = Field(json_schema_extra={"format": "date-time"})
    content_digest: str
    version: int


class Finalize(Shape):
    version: Id | None = Field(
        None, description="The visit version the phone shows; 409 when it differs."
    )


class MinutesOut(Answer):
    number: str
    sha256: str
    level: str | None = Field(
        description="PAdES baseline level reached: B-B (no trusted time), B-T (timestamped),"
        " B-LT (with validation data), B-LTA (with a document timestamp; README)."
    )
    download_url: str
    verify_url: str


class MinutesIssued(Answer):
    minutes: MinutesOut


class VerifyUpload(Shape):
    file: Any = Field(json_schema_extra={"type": "string", "format": "binary"})


class Replacement(Answer):
    number: str
    issued_at: str = Field(json_schema_extra={"format": "date-time"})
    verify_url: str


class Verification(Answer):
    valid: bool
    number: str | None
    inspection_id: int | None
    sha256: str
    current_sha256: str | None = Field(
        description="Of the file the office serves now: differs from sha256 when the"
        " minutes were re-timestamped since this copy (minutes extend-ltv); both are genuine."
    )
    signature_intact: bool
    reason: str
    altered: bool = Field(description="Issued minutes with bytes added after signing.")
    superseded_by: Replacement | None


class Acknowledged(Answer):
    acknowledged_at: str | None = Field(json_schema_extra={"format": "date-time"})


# ---- review and remediation ----


class ReviewRequest(Shape):
    decision: ReviewDecision
    comment: Annotated[str, Field(max_length=5000)] = ""
    due: SupportedDate | None = None
    item_codes: list[str] = []


class EvidenceOut(Answer):
    id: int
    filename: str
    url: str


class Remediation(Answer):
    id: int
    inspection_id: int
    unit_id: int
    item_code: str | None
    request: str = Field(
        description="What this item asks: the checklist item's label, or the office's words"
        " for a request without items."
    )
    review_id: int | None = Field(
        description="The request the item belongs to: one per reviewed visit, its items"
        " answered, accepted or reopened each on its own."
    )
    comment: str = Field(description="The office's words, said once for the whole request.")
    due_date: date
    status: RemediationStatus
    overdue: bool
    response: str
    responded_at: str | None = Field(json_schema_extra={"format": "date-time"})
    office_comment: str
    evidence: list[EvidenceOut]
    follow_up_inspection_id: int | None


class RemediationList(Answer):
    items: list[Remediation]


class RemediationQuery(Shape):
    status: RemediationStatus | Literal["overdue"] | None = None


class ReviewDone(Answer):
    decision: ReviewDecision
    remediations: list[Remediation]


class RemediationAnswer(Shape):
    response: Annotated[str, Field(max_length=5000)] = ""
    file: Any = Field(None, json_schema_extra={"type": "string", "format": "binary"})


class Decision(Shape):
    accept: StrictBool
    comment: Annotated[str, Field(max_length=5000)] = ""


# ---- figures ----


class StatsQuery(Shape):
    from_: SupportedDate | None = Field(None, alias="from")
    to: SupportedDate | None = None
    unit_id: QueryId | None = None


class Rate(Answer):
    checked: int
    failed: int
    compliance_rate: float | None


class CategoryRate(Rate):
    category: ItemCategory


class UnitRate(Rate):
    unit_id: int


class AttendanceFigures(Answer):
    rostered: int
    present: int
    late: int
    absent_excused: int
    absent_unexcused: int
    on_duty: int


class Stats(Answer):
    by_category: list[CategoryRate]
    by_unit: list[UnitRate]
    attendance: AttendanceFigures


# ---- webhooks ----

WebhookEventType = Literal[WEBHOOK_EVENTS]


class WebhookCreate(Shape):
    url: Annotated[
        str,
        Field(
            min_length=1,
            max_length=2000,
            description="http:// or https://; private and loopback addresses are refused"
            " unless the server sets WEBHOOK_ALLOW_PRIVATE=1.",
        ),
    ]
    events: Annotated[list[WebhookEventType], Field(min_length=1, max_length=len(WEBHOOK_EVENTS))]
    description: Annotated[str, Field(max_length=200)] = ""


class WebhookOut(Answer):
    id: int
    url: str
    events: list[WebhookEventType]
    description: str
    created_at: str = Field(json_schema_extra={"format": "date-time"})


class WebhookCreated(WebhookOut):
    secret: str = Field(
        description="whsec_ and the base64 key of the HMAC-SHA256 signatures. Shown only in"
        " this answer: keep it in the receiving system."
    )


class WebhookList(Answer):
    items: list[WebhookOut]


class DeliveryAttemptOut(Answer):
    at: str = Field(json_schema_extra={"format": "date-time"})
    status_code: int | None = Field(description="The endpoint's HTTP status; null: no answer.")
    duration_ms: int
    ok: bool
    error: str


class DeliveryOut(Answer):
    webhook_id: str = Field(description="The webhook-id header: msg_<n>, the same on a retry.")
    event: str
    status: Literal["pending", "sent", "failed"]
    created_at: str = Field(json_schema_extra={"format": "date-time"})
    sent_at: str | None = Field(json_schema_extra={"format": "date-time"})
    next_attempt_at: str | None = Field(json_schema_extra={"format": "date-time"})
    attempts: list[DeliveryAttemptOut]


class WebhookDetail(WebhookOut):
    deliveries: list[DeliveryOut] = Field(description="The last 50 events, newest first.")


class PingQueued(Answer):
    webhook_id: str = Field(description="The test event's webhook-id, to find in the log.")


# The events' payloads, as posted (documented under "webhooks" in the OpenAPI document).


class EventUnit(Answer):
    id: int
    name: str


class EventVisit(Answer):
    id: int
    unit: EventUnit


class EventMinutes(Answer):
    id: int
    number: str
    issued_at: str = Field(json_schema_extra={"format": "date-time"})
    sha256: str = Field(description="Of the signed PDF, as stored.")
    verify_url: str
    pdf_url: str = Field(description="GET with a token that may read the visit.")
    supersedes_id: int | None


class EventMinutesVisit(EventVisit):
    kind: InspectionKind
    started_at: str | None = Field(json_schema_extra={"format": "date-time"})
    ended_at: str | None = Field(json_schema_extra={"format": "date-time"})
    remediation_due: date | None


class MinutesEventData(Answer):
    minutes: EventMinutes
    inspection: EventMinutesVisit
    superseded_by: EventMinutes | None = Field(
        None, description="minutes.superseded only: the correction that replaced them."
    )


class EventRemediation(Answer):
    id: int
    review_id: int | None
    item_code: str | None
    request: str
    due_date: date
    status: RemediationStatus
    response: str
    responded_at: str | None = Field(json_schema_extra={"format": "date-time"})
    office_comment: str
    closed_at: str | None = Field(json_schema_extra={"format": "date-time"})


class RemediationEventData(Answer):
    remediation: EventRemediation
    inspection: EventVisit


class EventReview(Answer):
    id: int
    decision: ReviewDecision
    comment: str
    reviewed_at: str = Field(json_schema_extra={"format": "date-time"})
    remediation_ids: list[int]


class ReviewEventData(Answer):
    review: EventReview
    inspection: EventVisit


def _event(name: str, types: tuple, data: type) -> type:
    return type(
        name,
        (Answer,),
        {
            "__annotations__": {"type": Literal[types], "timestamp": str, "data": data},
            "timestamp": Field(json_schema_extra={"format": "date-time"}),
        },
    )


MinutesEvent = _event("MinutesEvent", ("minutes.issued", "minutes.superseded"), MinutesEventData)
RemediationEvent = _event(
    "RemediationEvent",
    ("remediation.required", "remediation.answered", "remediation.closed"),
    RemediationEventData,
)
ReviewEvent = _event("ReviewEvent", ("visit.reviewed",), ReviewEventData)
EVENT_SHAPES = {
    "minutes.issued": MinutesEvent,
    "minutes.superseded": MinutesEvent,
    "remediation.required": RemediationEvent,
    "remediation.answered": RemediationEvent,
    "remediation.closed": RemediationEvent,
    "visit.reviewed": ReviewEvent,
}
WEBHOOK_HEADERS = (
    "Signed per Standard Webhooks: webhook-id (msg_<n>, the same on a retry: deduplicate on"
    " it), webhook-timestamp (Unix seconds) and webhook-signature (v1,<base64 HMAC-SHA256 of"
    " id.timestamp.body with the secret's key>). Answer 2xx within 10 s; anything else is"
    " retried after 1 min, 5 min, 30 min, 2 h, 6 h and 12 h."
)


def with_webhooks(document: dict) -> dict:
    """The document with its OpenAPI 3.1 ``webhooks``: each event's payload and headers."""
    document = {**document, "components": {**document.get("components", {})}}
    schemas = dict(document["components"].get("schemas", {}))
    for shape in {*EVENT_SHAPES.values()}:
        schema = shape.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[shape.__name__] = schema
    document["components"]["schemas"] = schemas
    header = {"required": True, "schema": {"type": "string"}}
    document["webhooks"] = {
        event: {
            "post": {
                "summary": event,
                "description": WEBHOOK_HEADERS,
                "parameters": [
                    {"name": name, "in": "header", **header}
                    for name in ("webhook-id", "webhook-timestamp", "webhook-signature")
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": f"#/components/schemas/{shape.__name__}"}
                        }
                    },
                },
                "responses": {"2XX": {"description": "Received."}},
            }
        }
        for event, shape in EVENT_SHAPES.items()
    }
    return document
