"""The HTTP API contract: JSON in, JSON out, and a clear 4xx for every kind of bad input."""
from __future__ import annotations

import pytest

from bot.config import DEFAULT_DISCLAIMER
from bot.web import create_app


def test_answer_has_passages_with_attribution_and_the_disclaimer(chat):
    body = chat("what are IVIG headaches like")
    assert body["kind"] == "answer"
    assert 1 <= len(body["passages"]) <= 3
    first = body["passages"][0]
    assert first["text"].startswith("IVIGs can cause severe headaches")
    assert first["source"] == {
        "document": "lupus-guide-ivig", "title": "Intravenous Immunoglobulins (IVIGs) and Lupus",
        "publisher": "Lupus Guide", "section": "Possible Side Effects", "url": None,
        "caveat": "This information is not a substitute for professional medical, legal, or financial advice from a qualified provider.",
    }
    assert isinstance(first["score"], float)
    assert body["disclaimer"] == DEFAULT_DISCLAIMER
    assert isinstance(body["context"], str) and len(body["context"]) < 500


def test_no_match_says_so_with_no_passages_and_the_disclaimer(chat):
    body = chat("how do I reset my portal password")
    assert body["kind"] == "no_match" and body["passages"] == []
    assert "couldn't find" in body["reply"]
    assert body["disclaimer"] == DEFAULT_DISCLAIMER


def test_disclaimer_can_be_overridden_by_configuration(dialogue, settings):
    settings = settings.with_overrides(disclaimer="Clinic X: not medical advice.")
    from bot.dialogue import Dialogue
    client = create_app(settings, Dialogue(dialogue.searcher, settings)).test_client()
    assert client.post("/api/chat", json={"message": "hello"}).get_json()["disclaimer"] == "Clinic X: not medical advice."


def test_healthz_counts_documents_and_passages(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["documents"] == 2 and response.get_json()["passages"] == 14


def error_of(response) -> tuple[int, str]:
    assert response.is_json, response.data[:200]
    body = response.get_json()
    assert set(body) == {"error"} and body["error"]["message"]
    return response.status_code, body["error"]["code"]


@pytest.mark.parametrize("data, content_type, expected", [
    (b"not json", "application/json", (400, "invalid_json")),
    (b"[1, 2]", "application/json", (400, "invalid_json")),
    (b'{"message": "hi", "context": ' + b"[" * 15000 + b"]" * 15000 + b"}", "application/json", (400, "invalid_json")),
    (b'{"message": "caf\xe9"}', "application/json", (400, "invalid_encoding")),
    (b"{}", "application/json", (400, "missing_message")),
    (b'{"message": ""}', "application/json", (400, "empty_message")),
    (b'{"message": "   \\n\\t "}', "application/json", (400, "empty_message")),
    (b'{"message": 42}', "application/json", (400, "invalid_message")),
    (b'{"message": ["a"]}', "application/json", (400, "invalid_message")),
    (b'{"message": null}', "application/json", (400, "missing_message")),
    (b"message=hi", "application/x-www-form-urlencoded", (415, "unsupported_media_type")),
    (b'{"message": "hi"}', "text/plain", (415, "unsupported_media_type")),
])
def test_bad_bodies_get_a_clear_json_error(client, data, content_type, expected):
    assert error_of(client.post("/api/chat", data=data, content_type=content_type)) == expected


def test_message_over_the_limit_is_refused_with_the_limit(client):
    response = client.post("/api/chat", json={"message": "a" * 1001})
    assert error_of(response) == (400, "message_too_long")
    assert "1000" in response.get_json()["error"]["message"]
    assert client.post("/api/chat", json={"message": "a" * 1000}).status_code == 200


def test_body_over_the_size_limit_is_413(client):
    assert error_of(client.post("/api/chat", data=b'{"message": "' + b"a" * 40000 + b'"}',
                                content_type="application/json")) == (413, "body_too_large")


def test_wrong_method_and_unknown_route_are_json(client):
    response = client.get("/api/chat")
    assert error_of(response) == (405, "method_not_allowed") and "POST" in response.headers["Allow"]
    assert error_of(client.get("/nowhere")) == (404, "not_found")
    assert error_of(client.delete("/healthz")) == (405, "method_not_allowed")


@pytest.mark.parametrize("junk", [None, 42, "garbage", "", "a" * 5000, {"t": [["x", 1]]}, [1, 2], {"nested": {"deep": []}}])
def test_junk_context_never_breaks_a_request(chat, junk):
    assert chat("what are IVIG headaches like", context=junk)["kind"] == "answer"


def test_unexpected_failure_is_a_json_500_without_traceback(app, monkeypatch):
    dialogue = app.extensions["ivig_bot"]["dialogue"]
    monkeypatch.setattr(dialogue, "respond", lambda *a, **k: 1 / 0)
    response = app.test_client().post("/api/chat", json={"message": "hi"})
    assert error_of(response) == (500, "internal_error")
    assert b"Traceback" not in response.data and b"ZeroDivision" not in response.data


def test_cross_origin_calls_only_from_allowed_origins(dialogue, settings):
    settings = settings.with_overrides(allowed_origins=("https://clinic.example",))
    client = create_app(settings, dialogue).test_client()
    allowed = client.post("/api/chat", json={"message": "hi"}, headers={"Origin": "https://clinic.example"})
    assert allowed.headers.get("Access-Control-Allow-Origin") == "https://clinic.example"
    other = client.post("/api/chat", json={"message": "hi"}, headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    preflight = client.options("/api/chat", headers={"Origin": "https://clinic.example",
                                                     "Access-Control-Request-Method": "POST",
                                                     "Access-Control-Request-Headers": "Content-Type"})
    assert preflight.headers.get("Access-Control-Allow-Origin") == "https://clinic.example"


def test_same_origin_only_by_default(client):
    response = client.post("/api/chat", json={"message": "hi"}, headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_messages_are_not_written_to_the_logs(client, caplog):
    caplog.set_level("INFO")
    client.post("/api/chat", json={"message": "my secret symptom zebra"})
    assert "zebra" not in caplog.text and "/api/chat" in caplog.text


def test_welcome_gives_greeting_suggestions_and_disclaimer(client):
    body = client.get("/api/welcome").get_json()
    assert body["kind"] == "small_talk" and "automated assistant" in body["reply"]
    assert 2 <= len(body["suggestions"]) <= 3 and body["disclaimer"] == DEFAULT_DISCLAIMER


def test_widget_script_is_served_with_caching(client):
    response = client.get("/widget.js")
    assert response.status_code == 200 and "javascript" in response.content_type
    assert "max-age=3600" in response.headers["Cache-Control"] and response.headers.get("ETag")
    assert client.get("/widget.js", headers={"If-None-Match": response.headers["ETag"]}).status_code == 304
