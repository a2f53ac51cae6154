"""Schemathesis fuzzes every operation of /api/v1/openapi.json with valid tokens.

No generated request may cause a 500, every response must match the schema (status
codes, content types, headers, bodies) and auth must never be ignored. Examples are
bounded to keep the suite fast. The schema is the document the app serves (checked
below); each case goes to the app in-process (WSGI) on its own copy of the demo data.

Left out: the two heuristics that guess whether a request "should" succeed from its
shape alone. A well-formed id of a unit that does not exist is rightly a 422 here, and
lenient parsing of query strings (a repeated ``unit_id``) is not a defect.
"""

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from tests.conftest import _config
from tests.visit_helpers import bearer


def openapi_document() -> dict:
    """The document the app serves, built from the declared shapes (inspection/schemas.py)."""
    from app import create_app
    from inspection.schemas import spec, with_webhooks

    with create_app(_config(":memory:")).test_request_context():
        return with_webhooks(spec.spec)


schema = schemathesis.openapi.from_dict(openapi_document())


def test_the_fuzzed_schema_is_the_served_one(client):
    assert client.get("/api/v1/openapi.json").json == openapi_document()


@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_answers_every_generated_request_within_its_schema(case, app, token):
    # This test's app (its own database); schemathesis's follow-up probes use it too.
    case.operation.schema.app = app
    # An inspector, the office and a unit: each generated case is sent as each of them.
    # Tokens are issued once per operation, not per example (argon2 is slow on purpose).
    tokens = app.extensions.setdefault("fuzz-tokens", {})
    for username in ("truongdoan", "noivu", "donvi1"):
        if username not in tokens:
            tokens[username] = token(username)
        case.call_and_validate(
            base_url="http://localhost",
            app=app,
            # The in-process client does not decompress: ask for plain bodies.
            headers={**bearer(tokens[username]), "Accept-Encoding": "identity"},
            excluded_checks=[positive_data_acceptance, negative_data_rejection],
        )
