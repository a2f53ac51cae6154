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
        }
    ),
    "TokenRequest": obj(
        {"username": STRING, "password": STRING},
        {"name": {**STRING, "description": "A label to recognise the token by"}},
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
                    {"required": {"type": "boolean"}, "number_label": nullable(STRING)},
                ),
            },
        }
    ),
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
                        "401": _error_response("Wrong username or password"),
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
            "/api/v1/openapi.json": {
                "get": {
                    "summary": "This document",
                    "security": [],
                    "responses": {"200": {"description": "OpenAPI document"}},
                }
            },
        },
    }
