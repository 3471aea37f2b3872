"""Property-based fuzzing of the whole JSON API against its own OpenAPI
document (schemathesis): for every action, generated bodies (valid and not)
never cause a server error, every answer has the documented status,
content type and shape, and schema-invalid bodies are refused."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from converter.openapi import document
from tests.factories import make_project_with_key

# The document the server serves at /api/v1/openapi.json, its JSON API (the
# RPC protocol at / needs signed requests: tests/test_rpc.py drives it).
schema = schemathesis.openapi.from_dict(document()).include(path_regex=r"^/api/v1/")


@pytest.fixture
def key_headers(transactional_db):
    _, (key_id, secret) = make_project_with_key("test-project")
    return {"Authorization": f"Bearer {key_id}:{secret}"}


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_action_answers_as_documented(case, key_headers, live_server):
    # The document gives types and ranges, not every rule of the reference
    # (a ProjectName must be the key's own, a Width a fraction or whole
    # pixels), so schema-valid bodies may still get a documented 4xx; what
    # must never happen is a 5xx, an undocumented status or shape, or an
    # accepted schema-invalid body.
    case.call_and_validate(
        base_url=live_server.url,
        headers=key_headers,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
            negative_data_rejection,
        ],
    )
