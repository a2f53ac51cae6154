"""The OpenAPI 3 description of /api/v1; a test keeps it in step with the routes."""


def _error_response(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _ok(schema_ref: str, description: str = "OK") -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}},
    }


AUTH_ERRORS = {
    "401": _error_response("No token, or an expired or revoked one"),
    "403": _error_response("The user's role may not do this"),
}

STRING = {"type": "string"}
INTEGER = {"type": "integer"}
BOOLEAN = {"type": "boolean"}


def obj(required: dict, optional: dict | None = None) -> dict:
    """Return an object schema whose ``required`` properties must all be present."""
    return {
        "type": "object",
        "required": list(required),
        "properties": {**required, **(optional or {})},
    }


def list_of(item: dict) -> dict:
    """Return the ``{"items": [...]}`` envelope every list answer uses."""
    return obj({"items": {"type": "array", "items": item}})


def enum(*values: str) -> dict:
    return {"type": "string", "enum": list(values)}


def nullable(schema: dict) -> dict:
    return {**schema, "type": [schema["type"], "null"]}


SCHEMAS = {
    "Error": obj(
        {
            "error": obj(
                {"code": STRING, "message": STRING},
                {"fields": {"type": "object", "additionalProperties": STRING}},
            )
        }
    ),
    "User": obj(
        {
            "id": INTEGER,
            "username": STRING,
            "full_name": STRING,
            "role": enum("admin", "office", "inspector", "unit"),
            "unit_id": nullable(INTEGER),
            "second_factor": {**BOOLEAN, "description": "Two-step verification is on"},
        },
        {
            "csrf_token": {
                "type": "string",
                "description": "Cookie sessions only: the token for X-CSRFToken on writes.",
            }
        },
    ),
    "TokenRequest": obj(
        {"username": STRING, "password": STRING},
        {
            "name": {**STRING, "description": "A label to recognise the token by"},
            "otp": {
                **STRING,
                "description": "Accounts with two-step verification: the 6-digit code "
                "from the authenticator app, or an unused recovery code",
            },
        },
    ),
    "Token": obj(
        {
            "token": STRING,
            "expires_at": {**STRING, "format": "date-time"},
            "user": {"$ref": "#/components/schemas/User"},
        }
    ),
    "UnitList": list_of(
        obj(
            {
                "id": INTEGER,
                "code": STRING,
                "name": STRING,
                "kind": enum(
                    "department", "commune", "town", "ward", "admin_centre", "school", "other"
                ),
            }
        )
    ),
    "StaffList": list_of(
        obj(
            {
                "id": INTEGER,
                "full_name": STRING,
                "position": STRING,
                "category": enum("can_bo", "cong_chuc", "vien_chuc", "hop_dong"),
                "badge_no": nullable(STRING),
            }
        )
    ),
    "Checklist": obj(
        {
            "id": INTEGER,
            "version": INTEGER,
            "items": {
                "type": "array",
                "items": obj(
                    {
                        "code": STRING,
                        "category": STRING,
                        "scope": enum("unit", "person"),
                        "label": STRING,
                        "legal_basis": STRING,
                    },
                    {
                        "required": {"type": "boolean"},
                        "number_label": nullable(STRING),
                        "number_min": nullable({"type": "number"}),
                        "number_max": nullable({"type": "number"}),
                        "derived_from": {
                            **nullable(enum("attendance")),
                            "description": "Set on items answered through another answer"
                            " (ATT-PRESENT follows the person's attendance). Such an item"
                            " may be sent with the outcome that answer gives it (no change);"
                            " a contradicting outcome is 422.",
                        },
                    },
                ),
            },
        }
    ),
}


OUTCOME = nullable(enum("pass", "fail", "na"))
ATTENDANCE = nullable(enum("present", "late", "absent_excused", "absent_unexcused", "on_duty"))
NOTE = {"type": "string", "maxLength": 2000}
LONG_TEXT = {"type": "string", "maxLength": 20000}
DATE = nullable({"type": "string", "format": "date"})
DATETIME = nullable({"type": "string", "format": "date-time"})
UNIT_ITEM = obj(
    {"code": STRING},
    {
        "outcome": OUTCOME,
        "note": NOTE,
        "number": {
            "type": ["number", "string", "null"],
            "description": "Only on items with a number_label, within number_min..number_max;"
            ' two decimals at most; text may use a comma ("92,5") or a point ("92.5").',
        },
    },
)
PERSON_ITEM = obj({"code": STRING}, {"outcome": OUTCOME, "note": NOTE})
TEXTS = {
    "findings": LONG_TEXT,
    "assessment": LONG_TEXT,
    "requests": LONG_TEXT,
    "remediation_due": DATE,
    "unit_comments": LONG_TEXT,
}
ENDED_AT = {
    **nullable({"type": "string", "format": "date-time"}),
    "description": "When the visit ended (set by the team lead; local time if no offset)."
    " Never before the start or in the future.",
}
INSPECTION_FIELDS = {
    "id": INTEGER,
    "status": enum("planned", "draft", "submitted", "finalized", "cancelled"),
    "version": INTEGER,
    "unit_id": INTEGER,
    "unit_name": STRING,
    "kind": enum("scheduled", "surprise"),
    "planned_date": DATE,
    "started_at": DATETIME,
    "ended_at": ENDED_AT,
    "finished_at": DATETIME,
    "checklist_version_id": INTEGER,
    "team": {
        "type": "array",
        "items": obj(
            {"user_id": INTEGER, "full_name": STRING, "role": enum("lead", "member", "secretary")}
        ),
    },
}
PHOTO = obj(
    {
        "id": INTEGER,
        "sha256": STRING,
        "item_code": nullable(STRING),
        "person_id": nullable(INTEGER),
        "captured_at": DATETIME,
        "url": STRING,
        "thumb_url": STRING,
    }
)
SCHEMAS.update(
    {
        "InspectionCreate": obj(
            {"client_id": {"type": "string", "minLength": 1, "maxLength": 64}, "unit_id": INTEGER},
            {
                "kind": enum("scheduled", "surprise"),
                "team": {
                    "type": "array",
                    "items": obj({"user_id": INTEGER, "role": enum("lead", "member", "secretary")}),
                },
                "client_started_at": {"type": "string", "format": "date-time"},
                "started_offline": {
                    "type": "boolean",
                    "description": "The phone started the visit with no connection: the"
                    " visit began at client_started_at (if within the last 3 days).",
                },
                "location": obj(
                    {"latitude": {"type": "number"}, "longitude": {"type": "number"}},
                    {"accuracy": {"type": "number"}},
                ),
            },
        ),
        "Inspection": obj(INSPECTION_FIELDS),
        "InspectionList": list_of({"$ref": "#/components/schemas/Inspection"}),
        "InspectionFull": obj(
            {
                **INSPECTION_FIELDS,
                "unit_items": {"type": "array", "items": UNIT_ITEM},
                "people": {
                    "type": "array",
                    "items": obj(
                        {
                            "person_id": INTEGER,
                            "staff_id": nullable(INTEGER),
                            "full_name": STRING,
                            "position": STRING,
                            "attendance": ATTENDANCE,
                            "note": STRING,
                            "items": {"type": "array", "items": PERSON_ITEM},
                        }
                    ),
                },
                **TEXTS,
                "photos": {"type": "array", "items": PHOTO},
                "content_digest": {
                    "type": "string",
                    "description": "SHA-256 of the answers and texts: what a signature given"
                    " now is bound to.",
                },
            }
        ),
        "ResultsSave": {
            **obj(
                {"version": INTEGER},
                {
                    "unit_items": {"type": "array", "items": UNIT_ITEM},
                    "people": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "description": "Name the person by staff_id (roster) or person_id.",
                            "properties": {
                                "staff_id": INTEGER,
                                "person_id": INTEGER,
                                "attendance": ATTENDANCE,
                                "note": NOTE,
                                "items": {"type": "array", "items": PERSON_ITEM},
                            },
                        },
                    },
                    **TEXTS,
                    "ended_at": ENDED_AT,
                },
            ),
            "additionalProperties": False,
        },
        "Version": obj({"version": INTEGER}),
        "PersonCreate": obj(
            {"full_name": {"type": "string", "minLength": 1, "maxLength": 120}},
            {"position": {"type": "string", "maxLength": 120}, "client_id": STRING},
        ),
        "PersonCreated": obj({"person_id": INTEGER, "version": INTEGER}),
        "Photo": PHOTO,
        "PhotoStored": {
            **PHOTO,
            "required": [*PHOTO["required"], "version"],
            "properties": {**PHOTO["properties"], "version": INTEGER},
        },
    }
)


SCHEMAS.update(
    {
        "SignatureSave": obj(
            {"name": {"type": "string", "minLength": 1, "maxLength": 120}},
            {
                "position": {"type": "string", "maxLength": 120},
                "image": {"type": "string", "description": "data:image/png;base64,..."},
                "refused": {"type": "boolean", "description": "Only for role unit_rep"},
                "reason": {"type": "string", "maxLength": 2000},
                "content_version": {
                    "type": "integer",
                    "description": "The visit version the signer's phone showed.",
                },
                "content_digest": {
                    "type": "string",
                    "description": "SHA-256 of the content the phone held when the signer"
                    " signed (as content_digest of the visit). When the server's content"
                    " differs, 409: the signer must sign again. Without it the signature"
                    " is bound to the server's content now.",
                },
            },
        ),
        "Finalize": obj(
            {},
            {
                "version": {
                    "type": "integer",
                    "description": "The visit version the phone shows; 409 when it differs.",
                }
            },
        ),
        "SignatureSaved": obj(
            {
                "role": enum("lead", "secretary", "unit_rep"),
                "name": STRING,
                "refused": {"type": "boolean"},
                "signed_at": DATETIME,
                "content_digest": STRING,
                "version": INTEGER,
            }
        ),
        "MinutesIssued": obj(
            {
                "minutes": obj(
                    {
                        "number": STRING,
                        "sha256": STRING,
                        "download_url": STRING,
                        "verify_url": STRING,
                    }
                )
            }
        ),
        "Verification": obj(
            {
                "valid": {"type": "boolean"},
                "number": nullable(STRING),
                "inspection_id": nullable(INTEGER),
                "sha256": STRING,
                "signature_intact": {"type": "boolean"},
                "reason": STRING,
            },
            {
                "altered": {
                    "type": "boolean",
                    "description": "Issued minutes with bytes added after signing.",
                },
                "superseded_by": nullable(
                    obj({"number": STRING, "issued_at": DATETIME, "verify_url": STRING})
                ),
            },
        ),
    }
)


REMEDIATION = obj(
    {
        "id": INTEGER,
        "inspection_id": INTEGER,
        "unit_id": INTEGER,
        "item_code": nullable(STRING),
        "request": STRING,
        "due_date": {"type": "string", "format": "date"},
        "status": enum("open", "answered", "accepted", "reopened"),
        "overdue": {"type": "boolean"},
        "response": STRING,
        "responded_at": DATETIME,
        "office_comment": STRING,
        "evidence": {
            "type": "array",
            "items": obj({"id": INTEGER, "filename": STRING, "url": STRING}),
        },
        "follow_up_inspection_id": nullable(INTEGER),
    }
)
SCHEMAS.update(
    {
        "Remediation": REMEDIATION,
        "RemediationList": list_of({"$ref": "#/components/schemas/Remediation"}),
        "ReviewRequest": obj(
            {"decision": enum("accepted", "remediation_required")},
            {
                "comment": {"type": "string", "maxLength": 5000},
                "due": {"type": "string", "format": "date"},
                "item_codes": {"type": "array", "items": STRING},
            },
        ),
        "ReviewDone": obj(
            {
                "decision": enum("accepted", "remediation_required"),
                "remediations": {"type": "array", "items": REMEDIATION},
            }
        ),
        "Decision": obj({"accept": {"type": "boolean"}}, {"comment": STRING}),
        "Acknowledged": obj({"acknowledged_at": DATETIME}),
        "Stats": obj(
            {
                "by_category": {
                    "type": "array",
                    "items": obj(
                        {
                            "category": STRING,
                            "checked": INTEGER,
                            "failed": INTEGER,
                            "compliance_rate": nullable({"type": "number"}),
                        }
                    ),
                },
                "by_unit": {
                    "type": "array",
                    "items": obj(
                        {
                            "unit_id": INTEGER,
                            "checked": INTEGER,
                            "failed": INTEGER,
                            "compliance_rate": nullable({"type": "number"}),
                        }
                    ),
                },
                "attendance": obj(
                    {
                        name: INTEGER
                        for name in (
                            "rostered",
                            "present",
                            "late",
                            "absent_excused",
                            "absent_unexcused",
                            "away_on_duty",
                        )
                    }
                ),
            }
        ),
    }
)


def _id_param(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": INTEGER}


def _inspection_param() -> dict:
    return {"name": "inspection_id", "in": "path", "required": True, "schema": INTEGER}


def _json_body(schema: str) -> dict:
    return {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


NOT_YOURS = _error_response("No such visit, or not one the user may see")
IMMUTABLE = _error_response("The visit is finalized or not started")
INVALID = _error_response("Invalid values, per field in error.fields")

INSPECTION_PATHS = {
    "/api/v1/inspections": {
        "post": {
            "summary": "Start a visit (idempotent per user and client_id)",
            "requestBody": _json_body("InspectionCreate"),
            "responses": {
                "201": _ok("Inspection", "Started"),
                "200": _ok("Inspection", "Already started with this client_id"),
                "400": _error_response("Not a JSON object"),
                **AUTH_ERRORS,
                "422": INVALID,
            },
        },
        "get": {
            "summary": "Visits the user may see",
            "parameters": [
                {
                    "name": "status",
                    "in": "query",
                    "schema": enum("planned", "draft", "submitted", "finalized", "cancelled"),
                },
                {"name": "unit_id", "in": "query", "schema": INTEGER},
            ],
            "responses": {"200": _ok("InspectionList"), **AUTH_ERRORS, "422": INVALID},
        },
    },
    "/api/v1/inspections/{inspection_id}": {
        "get": {
            "summary": "A visit with every answer and photo",
            "parameters": [_inspection_param()],
            "responses": {"200": _ok("InspectionFull"), **AUTH_ERRORS, "404": NOT_YOURS},
        }
    },
    "/api/v1/inspections/{inspection_id}/results": {
        "put": {
            "summary": "Save answers (partial: only what is listed changes)",
            "parameters": [_inspection_param()],
            "requestBody": _json_body("ResultsSave"),
            "responses": {
                "200": _ok("Version", "Saved; the new version"),
                "400": _error_response("Not a JSON object"),
                **AUTH_ERRORS,
                "404": NOT_YOURS,
                "409": _error_response("Stale version, or the visit can no longer change"),
                "422": INVALID,
            },
        }
    },
    "/api/v1/inspections/{inspection_id}/people": {
        "post": {
            "summary": "Add a person met on the visit who is not on the roster",
            "parameters": [_inspection_param()],
            "requestBody": _json_body("PersonCreate"),
            "responses": {
                "201": _ok("PersonCreated", "Added"),
                "200": _ok("PersonCreated", "Already added with this client_id"),
                "400": _error_response("Not a JSON object"),
                **AUTH_ERRORS,
                "404": NOT_YOURS,
                "409": IMMUTABLE,
                "422": INVALID,
            },
        }
    },
    "/api/v1/inspections/{inspection_id}/photos": {
        "post": {
            "summary": "Attach a photo (re-encoded to JPEG, at most 1600 px)",
            "parameters": [_inspection_param()],
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": obj(
                            {"file": {"type": "string", "format": "binary"}},
                            {
                                "item_code": STRING,
                                "staff_id": INTEGER,
                                "person_id": INTEGER,
                                "captured_at": {"type": "string", "format": "date-time"},
                                "client_id": {
                                    "type": "string",
                                    "maxLength": 64,
                                    "description": "Idempotency key: the same key again"
                                    " returns the first photo (200) instead of a second one.",
                                },
                            },
                        )
                    }
                },
            },
            "responses": {
                "200": _ok("PhotoStored", "Already stored under this client_id"),
                "201": _ok("PhotoStored", "Stored"),
                **AUTH_ERRORS,
                "404": NOT_YOURS,
                "409": IMMUTABLE,
                "413": _error_response("Larger than the limit"),
                "415": _error_response("Not an image"),
                "422": INVALID,
            },
        }
    },
    "/api/v1/inspections/{inspection_id}/signatures/{role}": {
        "put": {
            "summary": "Record a signature (or the unit representative's refusal)",
            "parameters": [
                _inspection_param(),
                {
                    "name": "role",
                    "in": "path",
                    "required": True,
                    "schema": enum("lead", "secretary", "unit_rep"),
                },
            ],
            "requestBody": _json_body("SignatureSave"),
            "responses": {
                "200": _ok("SignatureSaved"),
                "400": _error_response("Not a JSON object"),
                **AUTH_ERRORS,
                "404": NOT_YOURS,
                "409": _error_response(
                    "Finalized or not started, or the content changed since the signer"
                    " signed (content_digest): sign again"
                ),
                "422": INVALID,
            },
        }
    },
    "/api/v1/inspections/{inspection_id}/finalize": {
        "post": {
            "summary": "Issue the numbered, signed minutes and freeze the visit",
            "parameters": [_inspection_param()],
            "requestBody": {**_json_body("Finalize"), "required": False},
            "responses": {
                "201": _ok("MinutesIssued", "Issued"),
                **AUTH_ERRORS,
                "404": NOT_YOURS,
                "409": _error_response(
                    "Finalized already, the version differs, or error.fields names what is"
                    " missing and who must sign again"
                ),
                "422": INVALID,
            },
        }
    },
    "/api/v1/inspections/{inspection_id}/minutes.pdf": {
        "get": {
            "summary": "The stored signed PDF of the minutes in force",
            "parameters": [_inspection_param()],
            "responses": {
                "200": {
                    "description": "The PDF, with its SHA-256 as ETag",
                    "content": {
                        "application/pdf": {"schema": {"type": "string", "format": "binary"}}
                    },
                },
                **AUTH_ERRORS,
                "404": NOT_YOURS,
            },
        }
    },
    "/api/v1/inspections/{inspection_id}/amend": {
        "post": {
            "summary": "Open a corrected copy of a finalized visit; its minutes will supersede",
            "parameters": [_inspection_param()],
            "responses": {
                "201": _ok("Inspection", "The draft correction"),
                **AUTH_ERRORS,
                "404": NOT_YOURS,
                "409": _error_response("Not finalized, or already superseded"),
            },
        }
    },
    "/api/v1/inspections/{inspection_id}/review": {
        "post": {
            "summary": "The office accepts a finalized visit or requires remediation",
            "parameters": [_inspection_param()],
            "requestBody": _json_body("ReviewRequest"),
            "responses": {
                "201": _ok("ReviewDone", "Reviewed"),
                "400": _error_response("Not a JSON object"),
                **AUTH_ERRORS,
                "404": NOT_YOURS,
                "409": _error_response("Not finalized, or reviewed already"),
                "422": INVALID,
            },
        }
    },
    "/api/v1/remediations": {
        "get": {
            "summary": "Remediation requests (the office: all; a unit: its own)",
            "parameters": [
                {
                    "name": "status",
                    "in": "query",
                    "schema": enum("open", "answered", "accepted", "reopened", "overdue"),
                }
            ],
            "responses": {"200": _ok("RemediationList"), **AUTH_ERRORS, "422": INVALID},
        }
    },
    "/api/v1/remediations/{remediation_id}/response": {
        "post": {
            "summary": "The unit reports its fix, with evidence (photos or PDF)",
            "parameters": [_id_param("remediation_id")],
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": obj(
                            {"response": STRING},
                            {
                                "file": {
                                    "type": "array",
                                    "items": {"type": "string", "format": "binary"},
                                }
                            },
                        )
                    }
                },
            },
            "responses": {
                "200": _ok("Remediation"),
                **AUTH_ERRORS,
                "404": _error_response("No such request, or not the unit's"),
                "409": _error_response("Not waiting for an answer"),
                "413": _error_response("A file is too large"),
                "415": _error_response("A file is neither a photo nor a PDF"),
                "422": INVALID,
            },
        }
    },
    "/api/v1/remediations/{remediation_id}/decision": {
        "post": {
            "summary": "The office accepts an answer or reopens the request",
            "parameters": [_id_param("remediation_id")],
            "requestBody": _json_body("Decision"),
            "responses": {
                "200": _ok("Remediation"),
                "400": _error_response("Not a JSON object"),
                **AUTH_ERRORS,
                "404": _error_response("No such request"),
                "409": _error_response("Not answered"),
                "422": INVALID,
            },
        }
    },
    "/api/v1/minutes/{minutes_id}/acknowledge": {
        "post": {
            "summary": "The inspected unit acknowledges receipt of its minutes",
            "parameters": [_id_param("minutes_id")],
            "responses": {
                "200": _ok("Acknowledged"),
                **AUTH_ERRORS,
                "404": _error_response("No such minutes, or not the unit's"),
            },
        }
    },
    "/api/v1/stats": {
        "get": {
            "summary": "Compliance by category and unit, and attendance, for a period",
            "parameters": [
                {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}},
                {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}},
                {"name": "unit_id", "in": "query", "schema": INTEGER},
            ],
            "responses": {"200": _ok("Stats"), **AUTH_ERRORS, "422": INVALID},
        }
    },
    "/api/v1/minutes/verify": {
        "post": {
            "summary": "Check whether a PDF is genuine minutes issued here",
            "security": [],
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": obj({"file": {"type": "string", "format": "binary"}})
                    }
                },
            },
            "responses": {
                "200": _ok("Verification"),
                "413": _error_response("Larger than the limit"),
                "422": INVALID,
                "429": _error_response("Too many checks"),
            },
        }
    },
    "/api/v1/inspections/{inspection_id}/submit": {
        "post": {
            "summary": "Mark a complete visit ready for signatures",
            "parameters": [_inspection_param()],
            "responses": {
                "200": _ok("Inspection"),
                **AUTH_ERRORS,
                "404": NOT_YOURS,
                "409": IMMUTABLE,
                "422": _error_response("Answers missing, named in error.fields"),
            },
        }
    },
}


def openapi_document() -> dict:
    """Return the OpenAPI 3.1 document of the API."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Kiểm tra công vụ API",
            "version": "1",
            "description": "Token auth: POST /api/v1/tokens, then Authorization: Bearer <token>.",
        },
        "servers": [{"url": "/"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
        },
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/tokens": {
                "post": {
                    "summary": "Exchange a username and password for a token",
                    "security": [],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/TokenRequest"}
                            }
                        },
                    },
                    "responses": {
                        "201": _ok("Token", "Created"),
                        "400": _error_response("Not a JSON object"),
                        "401": _error_response(
                            "Wrong username or password; or the account uses two-step "
                            "verification and the code is missing "
                            "(second_factor_required) or wrong (second_factor_invalid)"
                        ),
                        "403": _error_response(
                            "The organisation requires two-step verification and the "
                            "account has not turned it on (second_factor_enrolment_required)"
                        ),
                        "422": _error_response("A field is missing"),
                        "429": _error_response("Too many attempts"),
                    },
                }
            },
            "/api/v1/me": {
                "get": {
                    "summary": "The token's user",
                    "responses": {"200": _ok("User"), **AUTH_ERRORS},
                }
            },
            "/api/v1/units": {
                "get": {
                    "summary": "Active units (a unit user sees only its own)",
                    "responses": {"200": _ok("UnitList"), **AUTH_ERRORS},
                }
            },
            "/api/v1/units/{unit_id}/staff": {
                "get": {
                    "summary": "A unit's active roster",
                    "parameters": [
                        {
                            "name": "unit_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer"},
                        }
                    ],
                    "responses": {
                        "200": _ok("StaffList"),
                        **AUTH_ERRORS,
                        "404": _error_response("No such unit, or not the user's own"),
                    },
                }
            },
            "/api/v1/checklists/current": {
                "get": {
                    "summary": "The checklist version new visits use",
                    "responses": {
                        "200": _ok("Checklist"),
                        **AUTH_ERRORS,
                        "404": _error_response("No checklist set up yet"),
                    },
                }
            },
            **INSPECTION_PATHS,
            "/api/v1/openapi.json": {
                "get": {
                    "summary": "This document",
                    "security": [],
                    "responses": {"200": {"description": "OpenAPI document"}},
                }
            },
        },
    }
