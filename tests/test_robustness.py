"""Whatever a patient or a broken client sends, the API answers with a well-formed reply."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

KINDS = {"answer", "no_match", "more", "no_more", "small_talk", "personal", "urgent", "other_language"}
json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
                           lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
                           max_leaves=20)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(message=st.text(min_size=1, max_size=1000).filter(str.strip), context=json_values)
def test_any_message_and_context_get_a_well_formed_reply(client, message, context):
    response = client.post("/api/chat", json={"message": message, "context": context})
    assert response.status_code == 200
    body = response.get_json()
    assert body["kind"] in KINDS and body["disclaimer"] and len(body["passages"]) <= 3
    assert (body["urgent"] is not None) == (body["kind"] == "urgent")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=2000))
def test_any_bytes_get_json_and_never_a_5xx(client, raw):
    response = client.post("/api/chat", data=raw, content_type="application/json")
    assert response.status_code < 500 and response.is_json
