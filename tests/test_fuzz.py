"""Bounded fuzzing of the documented API (bot/data/openapi.json, served at /openapi.json).

schemathesis generates valid and invalid requests from the description and sends them to the
Flask app in process (no network): nothing may be a 5xx, every error must be the API's JSON
error, every reply must match the description, and the app must be healthy afterwards.
"""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

checked = {"requests": 0}


@pytest.fixture(scope="module")
def api_schema(app):
    """The description the app itself serves, bound to that app (the session app: no rate limit)."""
    return schemathesis.openapi.from_wsgi("/openapi.json", app)


def assert_well_behaved(case) -> None:
    response = case.call_and_validate()  # schemathesis's checks: no 5xx, status, content type, schema
    checked["requests"] += 1
    assert response.status_code < 500
    assert response.headers["content-type"][0].startswith("application/json")
    body = response.json()
    if response.status_code >= 400:
        assert set(body) == {"error"} and body["error"]["code"] and body["error"]["message"]


# schemathesis.pytest.from_fixture (its lazy loader) fails on pytest 9, so the cases are drawn
# from each operation's strategies by hypothesis directly.
@pytest.mark.parametrize("path, method, examples", [("/api/chat", "POST", 130), ("/api/welcome", "GET", 10),
                                                    ("/healthz", "GET", 10)])
def test_documented_operations_never_fail_and_always_answer_in_json(api_schema, path, method, examples):
    operation = api_schema[path][method]
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=cases)
    def fuzz(case) -> None:
        assert_well_behaved(case)

    fuzz()


def test_the_app_is_healthy_after_fuzzing(client):
    assert checked["requests"] > 0, "the fuzz tests above did not run"
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json()["status"] == "ok"
    assert client.post("/api/chat", json={"message": "what are IVIG headaches like"}).get_json()["kind"] == "answer"
