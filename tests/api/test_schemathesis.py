"""Property-based API fuzzing with schemathesis: requests generated from the
app's own OpenAPI spec (valid and invalid ones) must never get a server error.
Runs against the real app over a one-document index, with the API key sent so
the write endpoints are fuzzed past the key check too."""

from __future__ import annotations

import itertools

import pytest
import schemathesis
from schemathesis.generation.modes import GenerationMode
from hypothesis import HealthCheck, given, settings as hyp_settings
from hypothesis.errors import Unsatisfiable

from conftest import visibility_index
from lsn_assistant import Assistant
from lsn_assistant.api import create_app

KEY = "fuzz-key"


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory):
    s = visibility_index(tmp_path_factory.mktemp("fuzz"), api_key=KEY, max_upload_mb=0.2, ui=False)
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(s, Assistant.open(s)))


def test_no_server_error(api_schema):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/search", "/api/ask", "/api/documents", "/v1/chat/completions"}
    for op, mode in itertools.product(operations, (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)):

        @given(case=op.as_strategy(mode))
        @hyp_settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def fuzz(case):
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {KEY}"}
            response = case.call()
            assert response.status_code < 500, (case.method, case.path, response.status_code, response.text[:300])
            if response.status_code >= 400:
                assert "detail" in response.json()

        try:
            fuzz()
        except Unsatisfiable:
            assert mode == GenerationMode.NEGATIVE  # nothing to get wrong in a request without inputs
