"""The shipped deployment (deploy/): nginx with deploy/nginx/ivig-bot.conf in front of two real
`ivig-bot serve` replicas sharing a real redis-server, spoken to over https.

The site file is used as shipped, except for what a test machine must change: the listen ports
(free loopback ports), the certificate (a self-signed one made here), the access log's path and
the replicas' addresses. Each change asserts that it found its target, so a reshaped site file
fails here rather than being tested half-way. Which replica answered comes from nginx's own
access log ($upstream_addr), not from guesswork.
"""
from __future__ import annotations

import http.client
import json
import re
import secrets
import ssl
import subprocess
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import pytest

from conftest import load_jsonl
from processes import (NGINX, REDIS_SERVER, ROOT, Replica, free_port, installed, ivig_bot_replicas, main_conf, nginx,
                       nginx_binary, redis_server)

OPENSSL = installed("openssl", "/usr/bin/openssl")
REQUIRED = [("nginx", NGINX, "nginx"), ("redis-server", REDIS_SERVER, "redis-server"),
            ("openssl", "/usr/bin/openssl", "openssl")]
MISSING = [f"{name} (Debian package {package})" for name, path, package in REQUIRED if not installed(name, path)]
if MISSING:
    pytest.skip("the nginx deployment test needs " + " and ".join(MISSING), allow_module_level=True)

SITE = ROOT / "deploy" / "nginx" / "ivig-bot.conf"
SECRET_KEY = secrets.token_hex(32)  # shared by every replica, as deploy/ivig-bot.env.example says
HIGH_LIMIT = "100000/minute"  # the limiter and Redis are in the path, but never refuse
CONVERSATIONS = {c["name"]: c["turns"] for c in load_jsonl("conversations.jsonl")}
# Conversations whose later turns mean nothing without the context of the earlier ones
# ("how long do they last?" alone is a no_match): they fail if a replica cannot read the context.
FOLLOW_UPS = ["headache follow-up", "dose then duration", "small talk keeps the topic",
              "tell me more until nothing is left"]


# -- the deployment ------------------------------------------------------------------------------
@dataclass
class Reply:
    status: int
    headers: dict[str, str]  # names in lower case
    data: bytes

    def json(self) -> Any:
        return json.loads(self.data)


def exchange(connection: http.client.HTTPConnection, method: str, path: str, body: bytes | None,
             headers: Mapping[str, str]) -> Reply:
    try:
        connection.request(method, path, body=body, headers=dict(headers))
        response = connection.getresponse()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        connection.close()


def chat_body(message: str, context: str | None) -> bytes:
    return json.dumps({"message": message} | ({"context": context} if context else {})).encode()


JSON = {"Content-Type": "application/json"}


@dataclass
class Deployment:
    replicas: list[Replica]
    https_port: int
    http_port: int
    tls: ssl.SSLContext
    access_log: Path
    error_log: Path
    sent: int = 0  # requests sent to nginx: each makes one access log line
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def addresses(self) -> set[str]:
        return {replica.address for replica in self.replicas}

    def request(self, method: str, path: str, body: bytes | None = None, headers: Mapping[str, str] = {},
                source: str = "127.0.0.1", https: bool = True) -> Reply:
        """One request from `source` (any 127.x address: each is a different client)."""
        if https:
            connection = http.client.HTTPSConnection("127.0.0.1", self.https_port, context=self.tls, timeout=60,
                                                     source_address=(source, 0))
        else:
            connection = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=60, source_address=(source, 0))
        with self.lock:
            self.sent += 1
        return exchange(connection, method, path, body, headers)

    def chat(self, message: str, context: str | None = None, headers: Mapping[str, str] = {},
             source: str = "127.0.0.1", path: str = "/api/chat") -> Reply:
        return self.request("POST", path, chat_body(message, context), {**JSON, **headers}, source)

    def entries(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.access_log.read_text().splitlines()]

    def logged(self, count: int) -> list[dict[str, Any]]:
        """The access log once it has `count` entries: nginx writes a request's line just after
        answering it, so the line can trail the reply."""
        deadline = time.monotonic() + 20
        while len(entries := self.entries()) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(entries) == count, f"expected {count} access log lines, found {len(entries)}"
        return entries

    def mark(self) -> int:
        """Where the next request's line will be: once every earlier request has been logged."""
        return len(self.logged(self.sent))

    def new_entries(self, before: int, count: int) -> list[dict[str, Any]]:
        """The `count` lines logged after `mark()` gave `before`."""
        return self.logged(before + count)[before:]


def direct_chat(replica: Replica, message: str, context: str | None = None) -> Reply:
    connection = http.client.HTTPConnection("127.0.0.1", replica.port, timeout=60)
    return exchange(connection, "POST", "/api/chat", chat_body(message, context), JSON)


def substitute(text: str, old: str, new: str, count: int = 1) -> str:
    found = text.count(old)
    assert found == count, f"{SITE.name} has {found} × {old!r}, not {count}: this test no longer matches it"
    return text.replace(old, new)


def site_config(https_port: int, http_port: int, replicas: list[Replica], certificate: tuple[Path, Path],
                access_log: Path) -> str:
    text = SITE.read_text()
    for old, new, count in [
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;", 1),
        ("listen 80;", f"listen 127.0.0.1:{http_port};", 1),
        ("ssl_certificate     /etc/ssl/certs/ivig-bot.pem;", f"ssl_certificate {certificate[0]};", 1),
        ("ssl_certificate_key /etc/ssl/private/ivig-bot.key;", f"ssl_certificate_key {certificate[1]};", 1),
        ("access_log /var/log/nginx/ivig-bot.access.log ivig_bot;", f"access_log {access_log} ivig_bot;", 2),
        ("server 127.0.0.1:8001 ", f"server {replicas[0].address} ", 1),
        ("server 127.0.0.1:8002 ", f"server {replicas[1].address} ", 1),
    ]:
        text = substitute(text, old, new, count)
    # Nothing left that would listen on, or proxy to, a real port of this machine.
    assert all(a.startswith("127.0.0.1:") for a in re.findall(r"^\s*listen\s+(\S+)", text, re.M)), text
    upstreams = re.findall(r"^\s*server\s+(\d\S*)", text, re.M)
    assert sorted(upstreams) == sorted(r.address for r in replicas), upstreams
    return text


@contextmanager
def deploy(directory: Path, redis_url: str, certificate: tuple[Path, Path], index_cache: Path,
           rate_limit: str) -> Iterator[Deployment]:
    """Two replicas of one corpus (one shared key, one Redis, one shared index cache, a state
    directory each, metrics at /metrics) behind nginx running the shipped site file."""
    shared = {"IVIG_BOT_SECRET_KEY": SECRET_KEY, "IVIG_BOT_RATE_LIMIT_STORAGE": redis_url,
              "IVIG_BOT_RATE_LIMIT": rate_limit, "FORWARDED_ALLOW_IPS": "127.0.0.1", "IVIG_BOT_INSIGHTS": "off",
              "IVIG_BOT_INDEX_CACHE": str(index_cache), "IVIG_BOT_METRICS": "on"}
    envs = [{**shared, "IVIG_BOT_STATE_DIR": str(directory / f"state-{n}")} for n in (1, 2)]
    binary = nginx_binary("the nginx deployment")
    with ivig_bot_replicas(envs, directory) as replicas:
        prefix = directory / "nginx"
        prefix.mkdir()
        https_port, http_port = free_port(), free_port()
        site = prefix / "ivig-bot.conf"
        site.write_text(site_config(https_port, http_port, replicas, certificate, prefix / "access.log"))
        conf = prefix / "nginx.conf"
        conf.write_text(main_conf(prefix, f"    include {site};\n"))
        with nginx(binary, conf, prefix, https_port):
            trust = ssl.create_default_context(cafile=str(certificate[0]))
            running = Deployment(replicas, https_port, http_port, trust, prefix / "access.log", prefix / "error.log")
            assert running.request("GET", "/healthz").status == 200
            yield running


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory) -> Iterator[str]:
    with redis_server(tmp_path_factory.mktemp("redis"), "the nginx deployment") as url:
        yield url


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, trusted by the test's client."""
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    # Python checks the subjectAltName, never the CN: the client connects to 127.0.0.1.
    subprocess.run([OPENSSL, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-days", "1",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


@pytest.fixture(scope="module")
def index_cache(tmp_path_factory) -> Path:
    """One index cache for every replica here: replicas of one corpus may share it."""
    return tmp_path_factory.mktemp("index-cache")


@pytest.fixture(scope="module")
def deployment(tmp_path_factory, redis_url, certificate, index_cache) -> Iterator[Deployment]:
    with deploy(tmp_path_factory.mktemp("deployment"), redis_url, certificate, index_cache, HIGH_LIMIT) as running:
        yield running


@pytest.fixture(scope="module")
def limited(tmp_path_factory, redis_url, certificate, index_cache) -> Iterator[Deployment]:
    """Four chats a minute per client, counted in Redis."""
    with deploy(tmp_path_factory.mktemp("limited"), redis_url, certificate, index_cache, "4/minute") as running:
        yield running


# -- conversations -------------------------------------------------------------------------------
def turn_problem(turn: dict[str, Any], reply: Reply, seen: set[str]) -> str | None:
    """What is wrong with a reply to one turn of tests/data/conversations.jsonl, or None."""
    if reply.status != 200:
        return f"status {reply.status}: {reply.data[:200]!r}"
    body = reply.json()
    texts = [p["text"] for p in body["passages"]]
    kinds = turn["kind"] if isinstance(turn["kind"], list) else [turn["kind"]]
    if body["kind"] not in kinds:
        return f"kind {body['kind']}, expected {kinds}"
    if "first" in turn and not (texts and turn["first"] in texts[0]):
        return f"first passage is not {turn['first']!r}"
    if "any" in turn and not any(turn["any"] in t for t in texts):
        return f"no passage has {turn['any']!r}"
    if turn.get("new") and (not texts or seen & set(texts)):
        return "no new passage"
    return None


def converse(send: Callable[[str, str | None], Reply], turns: list[dict[str, Any]]) -> tuple[list[Reply], list[str]]:
    """Play a conversation through `send(message, context)`: the replies and what was wrong."""
    context, seen, replies, problems = None, set(), [], []
    for turn in turns:
        reply = send(turn["say"], context)
        replies.append(reply)
        if problem := turn_problem(turn, reply, seen):
            problems.append(f"{turn['say']!r}: {problem}")
            break
        body = reply.json()
        seen.update(p["text"] for p in body["passages"][:1])  # the others are folded until "more"
        context = body["context"]
    return replies, problems


@pytest.mark.parametrize("name", ["headache follow-up", "dose then duration"])
def test_a_conversation_keeps_its_follow_ups_when_turns_reach_different_replicas(deployment, name):
    turns = CONVERSATIONS[name]
    before = deployment.mark()
    replies, problems = converse(deployment.chat, turns)
    assert problems == []
    upstreams = [entry["upstream"] for entry in deployment.new_entries(before, len(turns))]
    assert set(upstreams) == deployment.addresses and upstreams[0] != upstreams[1], upstreams
    # Each replica, asked the same turns directly, gives exactly these replies.
    for replica in deployment.replicas:
        direct, _ = converse(lambda message, context: direct_chat(replica, message, context), turns)
        assert [r.json() for r in direct] == [r.json() for r in replies]
    # And the follow-up alone means nothing: the replies above did use the context.
    assert deployment.chat(turns[-1]["say"]).json()["kind"] == "no_match"


@dataclass
class Traffic:
    """Threads each playing follow-up conversations through nginx, counting finished requests."""
    deployment: Deployment
    threads: int = 3
    rounds: int = 6
    completed: int = 0
    problems: list[str] = field(default_factory=list)
    progress: threading.Condition = field(default_factory=threading.Condition)

    def send(self, message: str, context: str | None) -> Reply:
        reply = self.deployment.chat(message, context)
        with self.progress:
            self.completed += 1
            self.progress.notify_all()
        return reply

    def play(self, first: int) -> None:
        for n in range(first, first + self.rounds):
            name = FOLLOW_UPS[n % len(FOLLOW_UPS)]
            _, problems = converse(self.send, CONVERSATIONS[name])
            self.problems += [f"{name}: {p}" for p in problems]

    def run_until(self, completed: int) -> list[threading.Thread]:
        workers = [threading.Thread(target=self.play, args=(n,), daemon=True) for n in range(self.threads)]
        for worker in workers:
            worker.start()
        with self.progress:
            assert self.progress.wait_for(lambda: self.completed >= completed, timeout=120), "the traffic stalled"
        return workers


def test_killing_a_replica_mid_stream_loses_no_conversation(tmp_path, redis_url, certificate, index_cache):
    with deploy(tmp_path, redis_url, certificate, index_cache, HIGH_LIMIT) as running:
        victim, survivor = running.replicas
        before = running.mark()
        traffic = Traffic(running)
        workers = traffic.run_until(completed=8)
        victim.kill()
        killed_after = traffic.completed
        for worker in workers:
            worker.join(timeout=300)
        assert not any(worker.is_alive() for worker in workers), "the traffic did not finish"
        entries = running.new_entries(before, traffic.completed)
    assert traffic.problems == []
    assert traffic.completed > killed_after, "the replica was killed after the traffic ended"
    assert [e["status"] for e in entries] == [200] * traffic.completed
    assert victim.address in {e["upstream"] for e in entries[:killed_after]}, "the victim served nothing before"
    # nginx tried the dead replica at least once and then sent the same request to the other.
    retried = [e["upstream"] for e in entries if "," in e["upstream"]]
    assert f"{victim.address}, {survivor.address}" in retried, {e["upstream"] for e in entries}


# -- rate limits ---------------------------------------------------------------------------------
def test_the_rate_limit_is_shared_by_the_replicas(limited):
    before = limited.mark()
    replies = [limited.chat("hi", source="127.0.0.2") for _ in range(5)]
    assert [r.status for r in replies] == [200, 200, 200, 200, 429]
    refused = replies[-1]
    assert refused.json()["error"]["code"] == "too_many_requests" and refused.headers["retry-after"].isdigit()
    entries = limited.new_entries(before, 5)
    assert {e["upstream"] for e in entries[:4]} == limited.addresses  # each replica counted some of the four


def test_a_client_cannot_choose_its_rate_limit_identity_with_forwarded_for(limited):
    # From 127.0.0.1, the very address the replicas trust as their proxy: were nginx to append
    # to the client's X-Forwarded-For instead of replacing it, each forged address would get a
    # count of its own and all five chats would pass.
    statuses = [limited.chat("hi", headers={"X-Forwarded-For": f"198.51.100.{n}"}).status for n in range(5)]
    assert statuses == [200, 200, 200, 200, 429]


# -- privacy and the edges -----------------------------------------------------------------------
def test_the_access_log_never_holds_a_message_or_a_query_string(deployment):
    before = deployment.mark()
    headers = {"Referer": "https://clinic.example/?q=quokkazebra", "User-Agent": "quokkazebra-browser"}
    chat = deployment.chat("zebraquokka: what are IVIG headaches like", path="/api/chat?patient=quokkazebra",
                           headers=headers)
    health = deployment.request("GET", "/healthz?patient=quokkazebra", headers=headers)
    assert chat.status == 200 and health.status == 200
    entries = deployment.new_entries(before, 2)
    assert [e["uri"] for e in entries] == ["/api/chat", "/healthz"]  # the requests were logged
    for log in (deployment.access_log, deployment.error_log):
        written = log.read_bytes().lower()
        assert b"zebraquokka" not in written and b"quokkazebra" not in written, log.name


def test_the_app_answers_and_logs_with_nginx_request_id(deployment):
    # A client's own id, shaped like one the app would keep: only nginx's replacing it stops it.
    before = deployment.mark()
    reply = deployment.chat("what are IVIG headaches like", headers={"X-Request-ID": "deadbeef" * 4})
    logged = deployment.new_entries(before, 1)[0]["request_id"]
    assert reply.status == 200 and reply.headers["x-request-id"] == logged != "deadbeef" * 4
    assert any(logged in replica.log.read_text() for replica in deployment.replicas)


def test_metrics_are_refused_to_the_internet(deployment):
    refused = deployment.request("GET", "/metrics")
    assert refused.status == 403 and refused.json()["error"]["code"] == "forbidden"
    direct = http.client.HTTPConnection("127.0.0.1", deployment.replicas[0].port, timeout=30)
    assert exchange(direct, "GET", "/metrics", None, {}).status == 200  # the replicas do serve them


def test_plain_http_is_redirected_to_https(deployment):
    reply = deployment.request("GET", "/widget.js?v=2", headers={"Host": "bot.clinic.example"}, https=False)
    assert reply.status == 301 and reply.headers["location"] == "https://bot.clinic.example/widget.js?v=2"


def test_https_replies_carry_hsts(deployment):
    assert deployment.request("GET", "/healthz").headers["strict-transport-security"].startswith("max-age=")


@pytest.mark.parametrize("size, refused_by", [(36 * 1024, "the app"), (64 * 1024, "nginx")])
def test_a_body_over_the_limit_gets_a_json_413(deployment, size, refused_by):
    before = deployment.mark()
    body = json.dumps({"message": "a" * size}).encode()
    reply = deployment.request("POST", "/api/chat", body, JSON)
    assert reply.status == 413 and reply.headers["content-type"].startswith("application/json")
    assert reply.json()["error"]["code"] == "body_too_large"
    upstream = deployment.new_entries(before, 1)[0]["upstream"]
    assert (upstream in deployment.addresses) if refused_by == "the app" else upstream == ""
