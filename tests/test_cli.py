"""The ivig-bot command: ask, check, and the real server started as a subprocess."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from conftest import document


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, list(args), env=env)


def test_check_prints_counts():
    result = run("check")
    assert result.exit_code == 0
    assert "ok: 2 documents, 14 passages" in result.output


def test_check_names_every_bad_file_and_fails(make_corpus):
    corpus = make_corpus({"a.md": document("a", ""), "b.md": "no front matter\n", "c.md": document("c", "Fine.")})
    result = run("check", "--corpus", str(corpus))
    assert result.exit_code == 2
    assert "a.md: the body has no text" in result.output and "b.md: no front matter" in result.output
    assert "Traceback" not in result.output


def test_corpus_directory_from_the_environment(make_corpus):
    corpus = make_corpus({"a.md": document("a", "Bring a book to your infusion.")})
    result = run("check", env={"IVIG_BOT_CORPUS": str(corpus)})
    assert "ok: 1 documents, 1 passages" in result.output


@pytest.mark.parametrize("variable, value", [("IVIG_BOT_LOG_LEVEL", "LOUD"), ("IVIG_BOT_MAX_MESSAGE_CHARS", "many"),
                                             ("PORT", "99999"), ("IVIG_BOT_WORKERS", "two")])
def test_a_bad_setting_is_a_clear_error(variable, value):
    result = run("check", env={variable: value})
    assert result.exit_code == 2 and variable in result.output and "Traceback" not in result.output


def test_ask_prints_the_passage_attribution_and_disclaimer():
    result = run("ask", "what are IVIG headaches like")
    assert result.exit_code == 0
    assert "IVIGs can cause severe headaches" in result.output
    assert "Intravenous Immunoglobulins (IVIGs) and Lupus — Possible Side Effects (Lupus Guide)" in result.output
    assert "not medical" in result.output


def test_ask_json_is_the_api_answer(client, settings):
    result = run("ask", "how much does IVIG cost", "--json", env={"IVIG_BOT_STATE_DIR": str(settings.state_dir)})
    cli_answer = json.loads(result.output)
    api_answer = client.post("/api/chat", json={"message": "how much does IVIG cost"}).get_json()
    api_answer.pop("answer_id", None)  # rating an answer is for the web widget only
    assert cli_answer == api_answer


def test_ask_refuses_an_empty_question():
    result = run("ask", "   ")
    assert result.exit_code == 1 and "empty" in result.output


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(url: str, body: bytes | None = None, content_type: str = "application/json") -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture(scope="module")
def server():
    port = free_port()
    env = {**os.environ, "PORT": str(port), "IVIG_BOT_WORKERS": "2"}
    process = subprocess.Popen([sys.executable, "-m", "bot", "serve"], env=env, cwd=Path(__file__).parent.parent,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1)
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail("server did not start:\n" + process.stdout.read().decode(errors="replace"))
            time.sleep(0.2)
    yield base
    process.terminate()
    process.wait(timeout=20)


def test_real_server_answers_over_http(server):
    status, body = http(server + "/api/chat", json.dumps({"message": "what are IVIG headaches like"}).encode())
    assert status == 200
    assert body["passages"][0]["source"]["document"] == "lupus-guide-ivig"
    status, follow = http(server + "/api/chat", json.dumps({"message": "how long do they last?", "context": body["context"]}).encode())
    assert status == 200 and follow["passages"][0]["text"].startswith("IVIGs can cause severe headaches")


def test_real_server_health_and_errors(server):
    status, health = http(server + "/healthz")
    assert status == 200 and health["passages"] == 14
    status, body = http(server + "/api/chat", b"\xff\xfe", "application/json")
    assert status == 400 and body["error"]["code"] == "invalid_encoding"
    status, body = http(server + "/missing")
    assert status == 404 and body["error"]["code"] == "not_found"


def test_serve_refuses_a_broken_corpus(make_corpus):
    corpus = make_corpus({"bad.md": "---\ntitle: [\n---\ntext\n"})
    result = subprocess.run([sys.executable, "-m", "bot", "serve", "--corpus", str(corpus), "--port", str(free_port())],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "bad.md: front matter is not valid YAML" in result.stderr and "Traceback" not in result.stderr
