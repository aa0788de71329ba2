"""Hardening for the open internet (issue 10): hostile messages, slow and malformed connections,
private logs, damaged caches, the context key, HTTP hygiene, rate limits and corpus files.

The server tests start the real `python -m bot serve` (gunicorn with gevent workers) once for
the module; the Redis test starts a real redis-server. Nothing is mocked.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import socket
import stat
import string
import subprocess
import sys
import threading
import time
import tracemalloc
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner
from itsdangerous import URLSafeSerializer

from bot.analysis import SynonymsError
from bot.cli import main
from bot.config import DEFAULT_RATE_LIMIT, Settings, SettingsError
from bot.dialogue import Dialogue
from bot.documents import CorpusError
from bot.index import Index
from bot.state import context_key
from bot.web import create_app
from conftest import document
from processes import free_port, redis_server

ROOT = Path(__file__).parent.parent
KINDS = {"answer", "no_match", "more", "no_more", "small_talk", "personal", "urgent", "other_language"}
MARKER = b"zebraquokka"


def assert_well_formed(body: dict) -> None:
    assert body["kind"] in KINDS and body["disclaimer"] and isinstance(body["context"], str)
    assert isinstance(body["reply"], str) and len(body["passages"]) <= 3


# -- a. worst-case messages -----------------------------------------------------------------------
def unknown_words(count: int) -> str:
    rng = random.Random(10)
    words: set[str] = set()
    while len(words) < count:
        words.add("".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(6)))
    return " ".join(sorted(words))


WORST_CASES = {
    "a 1,000-letter word": "".join(random.Random(1).choice(string.ascii_lowercase) for _ in range(1000)),
    # 143 is as many six-letter words as fit in the 1,000-character limit.
    "143 distinct unknown six-letter words": unknown_words(143),
    "1,000 repeated characters": "e" * 1000,
    "mixed scripts": ("IVIG hеadache головная боль 頭痛 صداع κεφαλαλγία 🤕 ивиг-infusion " * 20)[:1000],
}


@pytest.mark.parametrize("message", WORST_CASES.values(), ids=WORST_CASES.keys())
def test_worst_case_messages_get_a_reply_in_bounded_memory(client, message):
    assert len(message) <= 1000
    client.post("/api/chat", json={"message": "warm up the caches"})
    tracemalloc.start()
    try:
        response = client.post("/api/chat", json={"message": message})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 200
    assert_well_formed(response.get_json())
    assert peak < 64 * 1024 * 1024, f"peak {peak / 2**20:.0f} MB"


# -- b to e. the real server ----------------------------------------------------------------------
class Server:
    def __init__(self, port: int, log: Path, home: Path, runtime: Path) -> None:
        self.port, self.log, self.home, self.runtime = port, log, home, runtime
        self.url = f"http://127.0.0.1:{port}"

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.port), timeout=10)

    def exchange(self, data: bytes) -> tuple[int, dict[str, str], bytes]:
        """Send raw bytes and read the reply to the end of the connection, as a client must when
        told `Connection: close`: (status, lower-cased headers, body)."""
        with self.connect() as sock:
            sock.sendall(data)
            reply = b""
            while chunk := sock.recv(65536):
                reply += chunk
        head, _, body = reply.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
        return int(status_line.split()[1]), headers, body

    def log_bytes(self) -> bytes:
        return self.log.read_bytes()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`python -m bot serve` with two workers and no rate limit; its output goes to a file."""
    tmp = tmp_path_factory.mktemp("server")
    home, runtime, state = tmp / "home", tmp / "runtime", tmp / "state"
    for directory in (home, runtime):
        directory.mkdir()
    port = free_port()
    env = {**os.environ, "PORT": str(port), "IVIG_BOT_WORKERS": "2", "IVIG_BOT_RATE_LIMIT": "off",
           "IVIG_BOT_STATE_DIR": str(state), "HOME": str(home), "XDG_RUNTIME_DIR": str(runtime)}
    log = tmp / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "bot", "serve"], env=env, cwd=ROOT, stdout=out,
                                   stderr=subprocess.STDOUT)
    running = Server(port, log, home, runtime)
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(running.url + "/healthz", timeout=1)
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail("server did not start:\n" + log.read_text(errors="replace"))
            time.sleep(0.2)
    yield running
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def post_chat(server: Server, message: str) -> tuple[int, dict]:
    request = urllib.request.Request(server.url + "/api/chat", data=json.dumps({"message": message}).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_patients_are_served_while_slow_and_idle_connections_hang_on(server):
    slow_headers = [server.connect() for _ in range(30)]
    slow_bodies = [server.connect() for _ in range(30)]
    idle = [server.connect() for _ in range(200)]
    for sock in slow_headers:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    for sock in slow_bodies:
        sock.sendall(b"POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n")
    stop = threading.Event()

    def trickle() -> None:
        while not stop.wait(0.5):
            for sock in slow_headers + slow_bodies:
                try:
                    sock.send(b"a")
                except OSError:
                    pass  # the server's deadline dropped it: that is the point

    trickler = threading.Thread(target=trickle, daemon=True)
    trickler.start()
    try:
        results = [post_chat(server, "what are IVIG headaches like") for _ in range(20)]
        with urllib.request.urlopen(server.url + "/healthz", timeout=10) as health:
            health_status = health.status
    finally:
        stop.set()
        trickler.join()
        for sock in slow_headers + slow_bodies + idle:
            sock.close()
    assert [status for status, _ in results] == [200] * 20
    assert all(body["kind"] == "answer" for _, body in results)
    assert health_status == 200


@pytest.mark.parametrize("request_bytes, status", [
    (b"GARBAGE\r\n\r\n", 400),
    (b"GET /" + b"a" * 10_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    (b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-Header-%d: v\r\n" % i for i in range(200)) + b"\r\n", 431),
    (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Huge: " + b"h" * 10_000 + b"\r\n\r\n", 431),
], ids=["malformed request line", "10,000-character URI", "200 headers", "a 10,000-character header"])
def test_requests_gunicorn_cannot_parse_get_json_errors(server, request_bytes, status):
    got, headers, body = server.exchange(request_bytes)
    assert got == status
    assert headers["content-type"] == "application/json" and headers["cache-control"] == "no-store"
    assert json.loads(body)["error"]["code"] and b"<html" not in body.lower()


def chunked_post(body: bytes) -> bytes:
    return (b"POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
            b"Connection: close\r\n\r\n" + body)


def get(target: bytes) -> bytes:
    return b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"


@pytest.mark.parametrize("request_bytes, status", [
    (b"POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 26\r\nConnection: close"
     b"\r\n\r\n" + b'{"message": "zebraquokka"}', 200),
    (get(b"/api/chat?message=zebraquokka"), 405),
    (get(b"/healthz?q=zebraquokka"), 200),
    (chunked_post(b'{"message": "zebraquokka"}\r\n'), 400),  # declared chunked, but it is not
    (b"zebraquokka\r\n\r\n", 400),
    (b"GET /zebraquokka\nforged HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    (b"ZEBRAQUOKKA / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 405),
    (get(b"/zebraquokka"), 404),
    (get(b"/zebraquokka%0aforged%00line"), 404),
], ids=["chat message", "query to chat", "query to healthz", "false chunked body", "request line", "raw newline in path",
        "method", "path", "encoded newline and NUL in path"])
def test_nothing_a_client_sends_reaches_the_log(server, request_bytes, status):
    logged_before = len(server.log_bytes())
    got, headers, body = server.exchange(request_bytes)
    assert got == status and headers["content-type"] == "application/json"
    if status >= 400:
        assert json.loads(body)["error"]["code"]
    log = server.log_bytes()[logged_before:]  # the server logs before it answers
    assert log, "the request was not logged at all"
    assert MARKER not in log.lower()
    assert b"\x00" not in log
    assert not any(line.startswith(b"forged") for line in log.splitlines())


def test_a_chunked_body_over_the_limit_is_413(server):
    body = b"".join(b"1000\r\n" + b"a" * 0x1000 + b"\r\n" for _ in range(9)) + b"0\r\n\r\n"  # 36 KB > 32 KB
    status, headers, reply = server.exchange(chunked_post(body))
    assert status == 413 and headers["content-type"] == "application/json"
    assert json.loads(reply)["error"]["code"] == "body_too_large"


def test_no_gunicorn_control_socket_is_created(server):
    assert not (server.home / ".gunicorn" / "gunicorn.ctl").exists()
    assert not (server.runtime / "gunicorn.ctl").exists()
    assert list(server.runtime.iterdir()) == [] and list(server.home.iterdir()) == []


# -- f. damaged index caches ----------------------------------------------------------------------
def edit_meta(change):
    def damage(cache: Path) -> None:
        meta = json.loads((cache / "passages.json").read_text(encoding="utf-8"))
        change(meta)
        (cache / "passages.json").write_text(json.dumps(meta), encoding="utf-8")
    return damage


def truncate(cache: Path) -> None:
    data = (cache / "index.npz").read_bytes()
    (cache / "index.npz").write_bytes(data[: len(data) // 2])


def flip_bytes(cache: Path) -> None:
    data = bytearray((cache / "index.npz").read_bytes())
    middle = len(data) // 2
    data[middle:middle + 16] = bytes(b ^ 0xFF for b in data[middle:middle + 16])
    (cache / "index.npz").write_bytes(bytes(data))


def foreign(cache: Path) -> None:
    (cache / "passages.json").write_text('{"name": "another tool", "items": [1, 2, 3]}', encoding="utf-8")


DAMAGES = {
    "index.npz truncated": truncate,
    "index.npz bytes flipped": flip_bytes,
    "passages removed, postings point past the end": edit_meta(
        lambda m: m["passages"].update({k: v[:1] for k, v in m["passages"].items()})),
    "a passage's text is a number": edit_meta(lambda m: m["passages"]["text"].__setitem__(0, 42)),
    "a passage names a document that is not there": edit_meta(lambda m: m["passages"]["document"].__setitem__(0, 7)),
    "the columns disagree in length": edit_meta(lambda m: m["passages"]["section"].pop()),
    "word counts are not numbers": edit_meta(lambda m: m["extra"].update(word_counts={"book": "many"})),
    "passages.json is another program's JSON": foreign,
}


@pytest.fixture
def cached_corpus(make_corpus, settings, tmp_path):
    corpus = make_corpus({"a.md": document("a", "Bring a book to your infusion. An infusion takes hours."),
                          "b.md": document("b", "Parking at the clinic is free for patients.")})
    return settings.with_overrides(corpus_dir=corpus, index_cache_dir=tmp_path / "cache")


def old_leftover(cache: Path) -> Path:
    leftover = cache / "tmpkilled.npz.tmp"
    leftover.write_bytes(b"half a save")
    an_hour_ago = time.time() - 3600
    os.utime(leftover, (an_hour_ago, an_hour_ago))
    return leftover


@pytest.mark.parametrize("damage", DAMAGES.values(), ids=DAMAGES.keys())
def test_a_damaged_cache_is_rebuilt_with_one_warning(build, cached_corpus, damage, caplog):
    cache = cached_corpus.index_cache_dir
    build(cached_corpus)
    damage(cache)
    leftover = old_leftover(cache)
    with caplog.at_level(logging.WARNING):
        searcher = build(cached_corpus)
    assert searcher.search(searcher.parse("book for my infusion"))[0].passage.document == "a"
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "index cache" in warnings[0] and "damaged" in warnings[0]
    assert Index.load(cache, searcher.fingerprint) is not None  # replaced by a good one
    assert not leftover.exists()


def test_only_old_leftovers_are_removed(build, cached_corpus, caplog):
    cache = cached_corpus.index_cache_dir
    build(cached_corpus)
    leftover = old_leftover(cache)
    another_replica_saving = cache / "tmpnow.json.tmp"
    another_replica_saving.write_text("{")
    with caplog.at_level(logging.WARNING):
        build(cached_corpus)
    assert not leftover.exists() and another_replica_saving.exists()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


# -- g. a cache setting that cannot work ----------------------------------------------------------
@pytest.mark.parametrize("where", ["a-file", "a-file/index"])
def test_check_refuses_an_index_cache_that_is_a_file(tmp_path, where):
    (tmp_path / "a-file").write_text("not a directory")
    result = CliRunner().invoke(main, ["check"], env={"IVIG_BOT_INDEX_CACHE": str(tmp_path / where)})
    assert result.exit_code == 2
    assert "IVIG_BOT_INDEX_CACHE" in result.output and "Traceback" not in result.output


def test_check_refuses_an_index_cache_that_cannot_be_made():
    # /proc refuses new directories even to root: the setting names an impossible place.
    result = CliRunner().invoke(main, ["check"], env={"IVIG_BOT_INDEX_CACHE": "/proc/self/no-such-dir/cache"})
    assert result.exit_code == 2
    assert "IVIG_BOT_INDEX_CACHE" in result.output and "Traceback" not in result.output


# -- h. the context key ---------------------------------------------------------------------------
def old_derivable_serializer(fingerprint: str) -> URLSafeSerializer:
    """How contexts were signed before issue 10: a key anyone could compute from /healthz."""
    return URLSafeSerializer(hashlib.sha256(b"ivig-bot.context:" + fingerprint.encode()).hexdigest(), salt="ivig-bot.context")


def test_the_context_key_is_random_private_and_kept(searcher, settings, tmp_path):
    state = settings.with_overrides(state_dir=tmp_path / "state")
    first = Dialogue(searcher, state)
    key = tmp_path / "state" / "context-key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    context = first.to_json(first.respond("what are IVIG headaches like"))["context"]
    conversation = first.codec.decode(context)
    assert conversation is not None and conversation.topic
    assert Dialogue(searcher, state).codec.decode(context) == conversation  # a restart keeps conversations
    assert context_key(tmp_path / "elsewhere") != key.read_text().strip()  # random, not derived from the corpus


def test_a_context_signed_with_the_old_derivable_key_is_ignored(client, dialogue, searcher):
    genuine = client.post("/api/chat", json={"message": "what are IVIG headaches like"}).get_json()["context"]
    payload = dialogue.codec._serializer.loads(genuine)
    forged = old_derivable_serializer(searcher.fingerprint).dumps(payload)
    assert dialogue.codec.decode(genuine) is not None and dialogue.codec.decode(forged) is None
    follow_up = {"message": "how long do they last?"}
    with_forged = client.post("/api/chat", json={**follow_up, "context": forged}).get_json()
    fresh = client.post("/api/chat", json=follow_up).get_json()
    assert with_forged == fresh


def refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


@pytest.mark.parametrize("change", [
    {"s": [10**30], "f": [10**30, -1]},
    {"s": [-1], "f": [-2]},
    {"t": [["headach", float("nan")], ["ivig", float("inf")], ["fever", float("-inf")]]},
    {"t": [["headach", "1.0"], [3, 1.0]], "s": ["0"], "f": ["1", None, True, 0.5]},
    {"t": "headach", "s": {"0": 1}, "f": 7},
    {"t": [["headach", 1e308]], "s": [0, 0, 0], "f": [1] * 1000},
], ids=["huge ids", "negative ids", "nan and infinity weights", "strings for numbers", "wrong shapes", "extremes"])
@pytest.mark.parametrize("message", ["tell me more", "how long do they last?"])
def test_forged_contexts_signed_with_the_real_key_cannot_break_a_turn(client, dialogue, change, message):
    payload = {"c": dialogue.codec._corpus, "t": [["headach", 1.0]], "s": [0], "f": [1], **change}
    forged = dialogue.codec._serializer.dumps(payload)
    response = client.post("/api/chat", json={"message": message, "context": forged})
    assert response.status_code == 200
    body = json.loads(response.data, parse_constant=refuse_constant)
    assert_well_formed(body)


# -- i. HTTP hygiene ------------------------------------------------------------------------------
def fetch(client, method: str, path: str):
    return client.post(path, json={"message": "hi"}) if method == "POST" else client.get(path)


@pytest.mark.parametrize("method, path", [("GET", "/"), ("GET", "/widget.js"), ("POST", "/api/chat"), ("GET", "/healthz"),
                                          ("GET", "/nowhere")])
def test_every_response_forbids_sniffing_and_referrers(client, method, path):
    response = fetch(client, method, path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize("method, path", [("POST", "/api/chat"), ("GET", "/api/welcome")])
def test_replies_are_never_cached(client, method, path):
    assert fetch(client, method, path).headers["Cache-Control"] == "no-store"


def test_the_demo_page_cannot_be_framed(client):
    policy = client.get("/").headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy


@pytest.fixture
def cors_client(settings, dialogue):
    return create_app(settings.with_overrides(allowed_origins=("https://clinic.example",)), dialogue).test_client()


def test_cors_headers_only_for_a_request_with_an_allowed_origin(cors_client):
    assert "Access-Control-Allow-Origin" not in cors_client.post("/api/chat", json={"message": "hi"}).headers
    preflight = cors_client.options("/api/chat", headers={"Origin": "https://clinic.example",
                                                          "Access-Control-Request-Method": "POST",
                                                          "Access-Control-Request-Headers": "Content-Type"})
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://clinic.example"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "content-type" in preflight.headers["Access-Control-Allow-Headers"].lower()


def test_options_is_an_empty_204_listing_the_methods(client):
    response = client.options("/api/chat")
    assert response.status_code == 204 and response.data == b""
    assert "Content-Type" not in response.headers
    assert {"POST", "OPTIONS"} <= {m.strip() for m in response.headers["Allow"].split(",")}


# -- j. rate limits in memory ---------------------------------------------------------------------
@pytest.fixture
def limited(settings, dialogue):
    """A test client for an app allowing three chats a minute per client."""
    return lambda **overrides: create_app(settings.with_overrides(rate_limit="3/minute", **overrides),
                                          dialogue).test_client()


def chat_status(client, **kwargs) -> int:
    return client.post("/api/chat", json={"message": "hi"}, **kwargs).status_code


def test_the_fourth_chat_in_a_minute_is_refused_politely(limited):
    client = limited()
    assert [chat_status(client) for _ in range(3)] == [200, 200, 200]
    refused = client.post("/api/chat", json={"message": "hi"})
    assert refused.status_code == 429 and refused.get_json()["error"]["code"] == "too_many_requests"
    assert refused.headers["Retry-After"].isdigit()
    assert all(client.get("/healthz").status_code == 200 for _ in range(10))  # never limited


def test_clients_behind_a_trusted_proxy_are_counted_apart(limited):
    client = limited(forwarded_allow_ips="127.0.0.1")
    first = {"headers": {"X-Forwarded-For": "203.0.113.1"}}
    second = {"headers": {"X-Forwarded-For": "203.0.113.2"}}
    assert [chat_status(client, **first) for _ in range(4)] == [200, 200, 200, 429]
    assert chat_status(client, **second) == 200


def test_an_untrusted_peer_cannot_dodge_its_limit_with_forwarded_for(limited):
    client = limited(forwarded_allow_ips="127.0.0.1")
    statuses = [chat_status(client, environ_base={"REMOTE_ADDR": "10.9.9.9"},
                            headers={"X-Forwarded-For": f"198.51.100.{i}"}) for i in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_trusting_every_proxy_still_counts_the_hop_the_proxy_added(limited):
    # With FORWARDED_ALLOW_IPS=*, the left of X-Forwarded-For is whatever the client wrote: only
    # the right-most address, added by the nearest proxy, may key the limit.
    client = limited(forwarded_allow_ips="*")
    statuses = [chat_status(client, headers={"X-Forwarded-For": f"198.51.100.{i}, 203.0.113.7"}) for i in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_rate_limit_setting_is_checked(tmp_path, dialogue):
    with pytest.raises(SettingsError, match="IVIG_BOT_RATE_LIMIT"):
        Settings.from_env({"IVIG_BOT_RATE_LIMIT": "lots"})
    assert Settings.from_env({}).rate_limit == DEFAULT_RATE_LIMIT
    off = Settings.from_env({"IVIG_BOT_RATE_LIMIT": "off", "IVIG_BOT_STATE_DIR": str(tmp_path)})
    assert off.rate_limit is None
    unlimited = create_app(off, dialogue).test_client()
    with_limit = create_app(off.with_overrides(rate_limit="100/minute"), dialogue).test_client()
    assert "X-RateLimit-Limit" in with_limit.post("/api/chat", json={"message": "hi"}).headers
    assert "X-RateLimit-Limit" not in unlimited.post("/api/chat", json={"message": "hi"}).headers


# -- k. rate limits shared through Redis ----------------------------------------------------------
@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    with redis_server(tmp_path_factory.mktemp("redis"), "shared rate limits") as url:
        yield url


def test_replicas_share_the_count_through_redis(limited, redis_url):
    replica_a = limited(rate_limit_storage=redis_url)
    replica_b = limited(rate_limit_storage=redis_url)
    assert [chat_status(replica_a), chat_status(replica_a), chat_status(replica_b)] == [200, 200, 200]
    assert chat_status(replica_a) == 429 and chat_status(replica_b) == 429


# -- l. corpus files ------------------------------------------------------------------------------
def build_in_time(build, settings: Settings) -> BaseException | None:
    """Build in a daemon thread: a read that blocks fails the test instead of hanging the run."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            build(settings)
            outcome.append(None)
        except BaseException as error:  # noqa: BLE001 - handed to the test
            outcome.append(error)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "building the corpus blocked"
    return outcome[0]


def fifo(path: Path) -> None:
    os.mkfifo(path)


def link_to_dev_zero(path: Path) -> None:
    path.symlink_to("/dev/zero")


def too_big(path: Path) -> None:
    path.write_text(document("big", "Words. " * 300), encoding="utf-8")


@pytest.mark.parametrize("name, make", [("x.md", fifo), ("y.md", link_to_dev_zero), ("big.md", too_big)],
                         ids=["a FIFO", "a symlink to /dev/zero", "over max_document_bytes"])
def test_a_corpus_file_that_is_not_a_plain_small_file_is_refused_by_name(build, make_corpus, settings, name, make):
    corpus = make_corpus({"a.md": document("a", "Bring a book to your infusion.")})
    make(corpus / name)
    error = build_in_time(build, settings.with_overrides(corpus_dir=corpus, max_document_bytes=1000))
    assert isinstance(error, CorpusError)
    assert len(error.problems) == 1 and error.problems[0].startswith(name)


def test_a_directory_named_synonyms_txt_is_an_error_not_no_synonyms(build, make_corpus, settings):
    corpus = make_corpus({"a.md": document("a", "Bring a book to your infusion.")})
    (corpus / "synonyms.txt").mkdir()
    error = build_in_time(build, settings.with_overrides(corpus_dir=corpus))
    assert isinstance(error, SynonymsError) and "synonyms.txt" in str(error)
