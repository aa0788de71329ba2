"""`ivig-bot serve` as operators run it, as a real process: metrics added up across gunicorn
workers, a separate metrics listener, JSON logs with one line per request, and corpus reloads
on SIGHUP that drop no request and never swap in a broken corpus."""
from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from processes import ROOT, free_port, ivig_bot_replicas, server_env, wait_until

DIARY = """---
id: infusion-diary
title: "The infusion diary"
publisher: "Test Clinic"
---

# The infusion diary

<!-- questions:
What is the infusion diary?
How do I keep an infusion diary?
-->
The zebrafish infusion diary is a small notebook our nurses give you at your first visit. Write down the
date of each infusion, how you felt in the days after, and any questions for your next appointment.
"""
SECRET_WORDS = "my zorbulax rash itches"


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory) -> Path:
    """Shared by the servers on the built-in corpus, and filled here by `ivig-bot check`, so every
    server below starts from the cache."""
    cache = tmp_path_factory.mktemp("index-cache")
    env = server_env({"IVIG_BOT_INDEX_CACHE": str(cache), "IVIG_BOT_STATE_DIR": str(cache.parent / "check-state")})
    subprocess.run([sys.executable, "-m", "bot", "check"], cwd=ROOT, env=env, check=True, capture_output=True)
    return cache


def base_env(tmp_path: Path, cache: Path, **more: str) -> dict[str, str]:
    return {"IVIG_BOT_STATE_DIR": str(tmp_path / "state"), "IVIG_BOT_INDEX_CACHE": str(cache),
            "IVIG_BOT_RATE_LIMIT": "off", "IVIG_BOT_INSIGHTS": "off", **more}


def post(url: str, message: str, headers: dict[str, str] | None = None) -> tuple[int, dict, dict]:
    request = urllib.request.Request(url + "/api/chat", data=json.dumps({"message": message}).encode(),
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), dict(error.headers)


def get_text(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def sample(metrics: str, name: str) -> float:
    """The value of one exposition line, e.g. 'ivig_bot_replies_total{kind="answer"}'."""
    for line in metrics.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} is not in the metrics:\n{metrics}")


def test_metrics_add_up_across_workers_and_logs_are_json(tmp_path, cache_dir):
    env = base_env(tmp_path, cache_dir, IVIG_BOT_METRICS="on", IVIG_BOT_LOG_FORMAT="json")
    with ivig_bot_replicas([env], tmp_path, workers=2) as (server,):
        ids = set()
        for number in range(12):  # fresh connections, so both workers take some
            status, body, headers = post(server.url, "how long does an infusion take" if number % 3 else SECRET_WORDS)
            assert status == 200
            ids.add(headers["X-Request-ID"])
        status, body, _ = post(server.url, "my lips are swelling and my throat is closing")
        assert body["kind"] == "urgent"
        metrics = get_text(server.url + "/metrics")
        log = server.log.read_text()
    assert sample(metrics, 'ivig_bot_requests_total{route="/api/chat",status="200"}') == 13
    assert sample(metrics, 'ivig_bot_urgent_replies_total{category="anaphylaxis"}') == 1
    assert sample(metrics, 'ivig_bot_request_seconds_count{route="/api/chat"}') == 13
    assert sample(metrics, "ivig_bot_documents") == 2 and sample(metrics, "ivig_bot_passages") == 14
    assert "zorbulax" not in metrics
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert all(line.startswith("{") for line in log.splitlines() if line and not line.startswith("ivig-bot: serving"))
    requests = [line for line in lines if line.get("route") == "/api/chat"]
    assert len(requests) == 13, "one line per request, and only one"
    assert ids <= {line["request_id"] for line in requests}
    assert len({line["request_id"] for line in requests}) == 13
    assert {line["logger"] for line in lines} >= {"bot.web", "gunicorn.error"}
    workers = {int(line["message"].rsplit(" ", 1)[1]) for line in lines if line["message"].startswith("Booting worker")}
    assert len(workers) == 2
    assert "zorbulax" not in log


def test_metrics_on_a_listener_of_their_own(tmp_path, cache_dir):
    port = free_port()
    env = base_env(tmp_path, cache_dir, IVIG_BOT_METRICS=f"127.0.0.1:{port}")
    with ivig_bot_replicas([env], tmp_path, workers=2) as (server,):
        assert post(server.url, "is ivig safe")[0] == 200
        with pytest.raises(urllib.error.HTTPError) as refused:
            get_text(server.url + "/metrics")
        assert refused.value.code == 404  # not on the port patients reach
        metrics = get_text(f"http://127.0.0.1:{port}/metrics")
    assert sample(metrics, 'ivig_bot_requests_total{route="/api/chat",status="200"}') == 1
    assert sample(metrics, "ivig_bot_index_from_cache") == 1


class Stream:
    """Patients asking steadily from a few threads, each on fresh connections."""

    def __init__(self, url: str, threads: int = 3) -> None:
        self.url, self.failures, self.answered = url, [], 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                status, body, _ = post(self.url, "how long does an infusion take")
                ok = status == 200 and body["kind"] == "answer"
                outcome = None if ok else f"{status} {body.get('kind') or body.get('error')}"
            except Exception as error:  # noqa: BLE001 - any failure a patient would see
                outcome = f"{type(error).__name__}: {error}"
            with self._lock:
                if outcome:
                    self.failures.append(outcome)
                else:
                    self.answered += 1

    def __enter__(self) -> "Stream":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)


def diary_answer(url: str) -> bool:
    status, body, _ = post(url, "what is the zebrafish infusion diary")
    return status == 200 and any("zebrafish" in p["text"] for p in body["passages"])


def test_sighup_reloads_the_corpus_under_load_without_a_failed_request(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    env = base_env(tmp_path, tmp_path / "cache", IVIG_BOT_CORPUS=str(corpus))
    with ivig_bot_replicas([env], tmp_path, workers=2) as (server,):
        assert not diary_answer(server.url)
        with Stream(server.url) as stream:
            time.sleep(1)
            (corpus / "diary.md").write_text(DIARY, encoding="utf-8")
            server.process.send_signal(signal.SIGHUP)
            wait_until(lambda: diary_answer(server.url), server.process, 180, "the new document after SIGHUP", server.log)
            time.sleep(2)  # the old workers finish what they were answering
        assert stream.failures == [] and stream.answered > 0

        # A broken corpus is refused, every bad file logged, and the last good one kept.
        (corpus / "broken.md").write_text("no front matter here\n", encoding="utf-8")
        with Stream(server.url) as stream:
            server.process.send_signal(signal.SIGHUP)
            wait_until(lambda: "still serving the previous corpus" in server.log.read_text(), server.process, 180,
                       "the refused reload", server.log)
        assert stream.failures == []
        assert "broken.md: no front matter" in server.log.read_text()
        assert diary_answer(server.url)
        health = json.loads(get_text(server.url + "/healthz"))
        assert health["documents"] == 3
