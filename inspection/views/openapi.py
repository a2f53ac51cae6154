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

SCHEMAS = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                },
            }
        },
    },
    "User": {
        "type": "object",
        "required": ["id", "username", "full_name", "role", "unit_id"],
        "properties": {
            "id": {"type": "integer"},
            "username": {"type": "string"},
            "full_name": {"type": "string"},
            "role": {"type": "string", "enum": ["admin", "office", "inspector", "unit"]},
            "unit_id": {"type": ["integer", "null"]},
        },
    },
    "TokenRequest": {
        "type": "object",
        "required": ["username", "password"],
        "properties": {
            "username": {"type": "string"},
            "password": {"type": "string"},
            "name": {"type": "string", "description": "A label to recognise the token by"},
        },
    },
    "Token": {
        "type": "object",
        "required": ["token", "expires_at", "user"],
        "properties": {
            "token": {"type": "string"},
            "expires_at": {"type": "string", "format": "date-time"},
            "user": {"$ref": "#/components/schemas/User"},
        },
    },
    "UnitList": {
        "type": "object",
        "required": ["items"],
        "properties": {
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "code", "name", "kind"],
                    "properties": {
                        "id": {"type": "integer"},
                        "code": {"type": "string"},
                        "name": {"type": "string"},
                        "kind": {
                            "type": "string",
                            "enum": [
                                "department",
                                "commune",
                                "town",
                                "ward",
                                "admin_centre",
                                "school",
                                "other",
                            ],
                        },
                    },
                },
            }
        },
    },
    "StaffList": {
        "type": "object",
        "required": ["items"],
        "properties": {
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "full_name", "position", "category", "badge_no"],
                    "properties": {
                        "id": {"type": "integer"},
                        "full_name": {"type": "string"},
                        "position": {"type": "string"},
                        "category": {
                            "type": "string",
                            "enum": ["can_bo", "cong_chuc", "vien_chuc", "hop_dong"],
                        },
                        "badge_no": {"type": ["string", "null"]},
                    },
                },
            }
        },
    },
    "Checklist": {
        "type": "object",
        "required": ["id", "version", "items"],
        "properties": {
            "id": {"type": "integer"},
            "version": {"type": "integer"},
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["code", "category", "scope", "label", "legal_basis"],
                    "properties": {
                        "code": {"type": "string"},
                        "category": {"type": "string"},
                        "scope": {"type": "string", "enum": ["unit", "person"]},
                        "label": {"type": "string"},
                        "legal_basis": {"type": "string"},
                        "required": {"type": "boolean"},
                        "number_label": {"type": ["string", "null"]},
                    },
                },
            },
        },
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
