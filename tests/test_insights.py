"""Insights: what content staff learn (unanswered topics, unhelpful answers) without keeping a patient's words."""
from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.dialogue import Dialogue
from bot.insights import Insights, Store, today
from bot.web import create_app

PRIVATE = "Hi, I'm Sarah Kowalczyk (sarah.k@example.com, 555 123 4567). Does Medicare cover the parking permit?"


@pytest.fixture
def insightful(dialogue, settings, tmp_path):
    """An app recording insights in its own state directory."""
    configured = settings.with_overrides(state_dir=tmp_path, insights="on", secret_key="test-key")
    app = create_app(configured, Dialogue(dialogue.searcher, configured))
    return app, configured


def rows(app, sql: str) -> list[tuple]:
    return app.extensions["ivig_bot"]["insights"].store.execute(sql)


def test_replies_are_counted_and_unanswered_topics_kept_as_terms_only(insightful, tmp_path):
    app, _ = insightful
    client = app.test_client()
    assert client.post("/api/chat", json={"message": "what are IVIG headaches like"}).get_json()["kind"] == "answer"
    assert client.post("/api/chat", json={"message": PRIVATE}).get_json()["kind"] == "no_match"
    recorded = rows(app, "SELECT day, kind, category, terms FROM replies ORDER BY rowid")
    assert [(r[0], r[1]) for r in recorded] == [(today(), "answer"), (today(), "no_match")]
    assert recorded[0][3] is None  # an answered question leaves no terms at all
    terms = recorded[1][3].split()
    assert "medicar" in terms and terms == sorted(terms)
    # Nothing that names or reaches the patient, anywhere in the database files.
    stored = b"".join(Path(f).read_bytes() for f in glob.glob(str(tmp_path / "insights.sqlite3*")))
    for private in (b"Sarah", b"sarah", b"Kowalczyk", b"kowalczyk", b"example.com", b"4567", b"parking permit", b"Does Medicare"):
        assert private not in stored


def test_urgent_replies_keep_their_category_and_no_words(insightful):
    app, _ = insightful
    app.test_client().post("/api/chat", json={"message": "I can't breathe and my lips are swelling"})
    assert rows(app, "SELECT kind, category, terms FROM replies") == [("urgent", "anaphylaxis", None)]


def test_an_answer_can_be_rated_once_and_forged_ids_are_refused(insightful):
    app, _ = insightful
    client = app.test_client()
    answer = client.post("/api/chat", json={"message": "how much does IVIG cost"}).get_json()
    assert answer["kind"] == "answer" and answer["answer_id"]
    ok = client.post("/api/feedback", json={"answer_id": answer["answer_id"], "helpful": False})
    assert ok.status_code == 200 and ok.get_json() == {"ok": True}
    day, passages, helpful = rows(app, "SELECT day, passages, helpful FROM feedback")[0]
    assert day == today() and json.loads(passages) and helpful == 0
    for bad in ({"answer_id": answer["answer_id"] + "x", "helpful": True}, {"answer_id": "forged", "helpful": True},
                {"answer_id": answer["answer_id"], "helpful": "yes"}, {"helpful": True}):
        refused = client.post("/api/feedback", json=bad)
        assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "invalid_feedback"


def test_with_insights_off_nothing_is_recorded_and_feedback_is_not_offered(dialogue, settings, tmp_path):
    configured = settings.with_overrides(state_dir=tmp_path, insights="off")
    client = create_app(configured, Dialogue(dialogue.searcher, configured)).test_client()
    answer = client.post("/api/chat", json={"message": "how much does IVIG cost"}).get_json()
    assert "answer_id" not in answer
    assert client.post("/api/feedback", json={"answer_id": "x", "helpful": True}).status_code == 404
    assert not list(tmp_path.glob("insights*"))


def test_a_storage_failure_never_fails_a_patient(dialogue, settings, tmp_path):
    configured = settings.with_overrides(state_dir=tmp_path, insights="on",
                                         insights_url="sqlite:////proc/self/no-such-dir/insights.db")
    app = create_app(configured, Dialogue(dialogue.searcher, configured))
    response = app.test_client().post("/api/chat", json={"message": "how much does IVIG cost"})
    assert response.status_code == 200 and response.get_json()["kind"] == "answer"
    assert app.extensions["ivig_bot"]["insights"].failures >= 1


def test_rows_older_than_the_retention_period_are_deleted(tmp_path):
    insights = Insights(Store(f"sqlite:///{tmp_path / 'i.db'}"), "corpus", "key", retention_days=90)
    insights.store.execute("INSERT INTO replies (day, corpus, kind) VALUES ('2001-01-01', 'corpus', 'answer')")
    insights.record_reply("no_match", None, ["insur"])
    assert insights.store.execute("SELECT day FROM replies") == [(today(),)]


def test_report_lists_unanswered_topics_with_the_closest_sections(insightful, settings, tmp_path):
    app, configured = insightful
    client = app.test_client()
    for _ in range(2):
        client.post("/api/chat", json={"message": PRIVATE})
    client.post("/api/chat", json={"message": "how much does IVIG cost"})
    env = {"IVIG_BOT_STATE_DIR": str(tmp_path), "IVIG_BOT_SECRET_KEY": "test-key"}
    result = CliRunner().invoke(main, ["report", "--format", "json", "--days", "7"], env=env)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    top = data["unanswered"][0]
    assert top["count"] == 2 and "medicar" in top["terms"] and top["closest_sections"]
    assert data["per_day"][0]["total"] == 3
    text = CliRunner().invoke(main, ["report"], env=env).output
    assert "medicar" in text and "Sarah" not in text


# -- PostgreSQL, for replicas: a real server on loopback ---------------------------------------
def postgres_binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


@pytest.fixture(scope="module")
def postgres():
    binaries = postgres_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql): the replica store is not tested")
    as_user = [] if os.geteuid() != 0 else ["runuser", "-u", "postgres", "--"]
    if as_user and not shutil.which("runuser"):
        pytest.skip("running as root without runuser: PostgreSQL refuses to start as root")
    # Not under pytest's 0700 temporary root: the postgres user must be able to reach it.
    data = Path(tempfile.mkdtemp(prefix="ivig-bot-pg-"))
    if as_user:
        shutil.chown(data, "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    subprocess.run([*as_user, str(binaries / "initdb"), "-D", str(data / "db"), "--auth=trust", "-U", "postgres"],
                   check=True, capture_output=True)
    subprocess.run([*as_user, str(binaries / "pg_ctl"), "-D", str(data / "db"), "-l", str(data / "log"), "-w", "start",
                    "-o", f"-p {port} -k {data} -c listen_addresses=127.0.0.1"], check=True, capture_output=True)
    yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    subprocess.run([*as_user, str(binaries / "pg_ctl"), "-D", str(data / "db"), "-m", "fast", "stop"], capture_output=True)
    shutil.rmtree(data, ignore_errors=True)


def test_replicas_share_one_postgresql_store(postgres, dialogue, settings, tmp_path):
    configured = settings.with_overrides(state_dir=tmp_path, insights="on", insights_url=postgres, secret_key="shared")
    first = create_app(configured, Dialogue(dialogue.searcher, configured)).test_client()
    second = create_app(configured, Dialogue(dialogue.searcher, configured)).test_client()
    first.post("/api/chat", json={"message": PRIVATE})
    answer = second.post("/api/chat", json={"message": "how much does IVIG cost"}).get_json()
    assert first.post("/api/feedback", json={"answer_id": answer["answer_id"], "helpful": True}).status_code == 200
    store = Store(postgres)
    kinds = sorted(k for (k,) in store.execute("SELECT kind FROM replies WHERE corpus = ?", (dialogue.searcher.fingerprint,)))
    assert kinds[-2:] == ["answer", "no_match"] or {"answer", "no_match"} <= set(kinds)
    assert store.execute("SELECT helpful FROM feedback WHERE corpus = ?", (dialogue.searcher.fingerprint,))[-1] == (1,)
    everything = " ".join(str(r) for r in store.execute("SELECT * FROM replies"))
    assert "Sarah" not in everything and "Kowalczyk" not in everything


def test_names_and_places_are_not_kept_whatever_their_case(insightful, tmp_path):
    app, _ = insightful
    client = app.test_client()
    for message in ("my name is grace baker and i live at 12 rose lane in springfield, where is the parking",
                    "JOHN SMITH here, my wife mary wants to know if medicare covers the parking",
                    "email me at jane dot doe at gmail dot com about the parking"):
        client.post("/api/chat", json={"message": message})
    stored = " ".join(t for (t,) in rows(app, "SELECT terms FROM replies WHERE terms IS NOT NULL"))
    for private in ("grace", "baker", "rose", "springfield", "john", "smith", "mari", "mary", "jane", "doe", "gmail"):
        assert private not in stored.split(), private
