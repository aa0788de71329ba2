"""What operators rely on, in-process: request ids, one log line per request, JSON logs,
metrics that never carry a message, settings checked at start, --version."""
from __future__ import annotations

import json
import logging
from importlib import metadata

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.config import Settings, SettingsError
from bot.logs import FIELDS, JsonFormatter
from bot.web import create_app

SECRET_WORDS = "my zorbulax rash itches"  # nothing in the corpus or the bot's lists: easy to spot


def test_every_reply_carries_a_request_id_and_a_proxys_id_is_kept(client):
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]
    assert len(first) == 32 and first != second
    from_nginx = "3f1c0a9d5e7b4c2a8f6e1d0b9a8c7e6f"
    assert client.get("/healthz", headers={"X-Request-ID": from_nginx}).headers["X-Request-ID"] == from_nginx
    error = client.post("/api/chat", data="not json", headers={"X-Request-ID": from_nginx})
    assert error.status_code == 415 and error.headers["X-Request-ID"] == from_nginx


@pytest.mark.parametrize("given", ["my chest hurts", "a" * 200, "abc", "1234567890abcdef; chest pain"])
def test_a_request_id_that_is_not_an_id_is_replaced(client, given):
    returned = client.get("/healthz", headers={"X-Request-ID": given}).headers["X-Request-ID"]
    assert returned != given and len(returned) == 32


def test_one_log_line_per_request_with_its_id_and_never_the_message(client, caplog):
    with caplog.at_level(logging.INFO, logger="bot.web"):
        response = client.post("/api/chat?q=" + SECRET_WORDS.replace(" ", "+"), json={"message": SECRET_WORDS})
    lines = [r for r in caplog.records if r.name == "bot.web"]
    assert len(lines) == 1
    fields = getattr(lines[0], FIELDS)
    assert fields["request_id"] == response.headers["X-Request-ID"]
    assert fields["route"] == "/api/chat" and fields["status"] == 200 and fields["kind"] == response.get_json()["kind"]
    assert "zorbulax" not in caplog.text


def test_json_log_lines_are_one_object_each_with_the_fields():
    record = logging.LogRecord("bot.web", logging.INFO, __file__, 1, "POST /api/chat 200", (), None)
    setattr(record, FIELDS, {"request_id": "abc", "status": 200})
    line = JsonFormatter().format(record)
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["level"] == "INFO" and parsed["logger"] == "bot.web" and parsed["status"] == 200
    assert parsed["request_id"] == "abc" and parsed["message"] == "POST /api/chat 200"


def test_metrics_are_off_unless_asked_for(client):
    assert client.get("/metrics").status_code == 404


def test_metrics_count_requests_replies_and_urgent_categories_never_words(settings, dialogue):
    client = create_app(settings.with_overrides(metrics="on"), dialogue).test_client()
    for message in ("how long does an infusion take", SECRET_WORDS, "my lips are swelling and my throat is closing"):
        assert client.post("/api/chat", json={"message": message}).status_code == 200
    client.post("/api/chat", json={})
    text = client.get("/metrics").get_data(as_text=True)
    assert 'ivig_bot_requests_total{route="/api/chat",status="200"} 3.0' in text
    assert 'ivig_bot_requests_total{route="/api/chat",status="400"} 1.0' in text
    assert 'ivig_bot_replies_total{kind="answer"} 1.0' in text
    assert 'ivig_bot_urgent_replies_total{category="anaphylaxis"} 1.0' in text
    assert 'ivig_bot_request_seconds_count{route="/api/chat"} 4.0' in text
    assert "ivig_bot_documents 2.0" in text and "ivig_bot_passages 14.0" in text
    assert "zorbulax" not in text and "lips" not in text


@pytest.mark.parametrize("name, value", [("METRICS", "yes"), ("METRICS", "localhost"), ("METRICS", "host:99999"),
                                         ("LOG_FORMAT", "xml")])
def test_operations_settings_are_checked(name, value):
    with pytest.raises(SettingsError, match=f"IVIG_BOT_{name}"):
        Settings.from_env({f"IVIG_BOT_{name}": value})


def test_a_separate_metrics_listener_is_parsed():
    assert Settings.from_env({"IVIG_BOT_METRICS": "127.0.0.1:9464"}).metrics_listener == ("127.0.0.1", 9464)
    assert Settings.from_env({"IVIG_BOT_METRICS": "on"}).metrics_listener is None


def test_version():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"ivig-bot {metadata.version('ivig-bot')}"


def test_missing_web_files_stop_serve_before_it_starts(tmp_path):
    (tmp_path / "widget.js").write_text("// only this one")
    result = CliRunner().invoke(main, ["serve", "--port", "1"], env={"IVIG_BOT_WEB_DIR": str(tmp_path)})
    assert result.exit_code == 2
    assert "the web files are missing" in result.output and "widget.css" in result.output


def test_create_app_refuses_missing_web_files(settings, dialogue, tmp_path):
    with pytest.raises(SettingsError, match="index.html"):
        create_app(settings.with_overrides(web_dir=tmp_path), dialogue)
