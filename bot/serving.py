"""How `ivig-bot serve` runs the app: gunicorn with gevent workers, hardened for the open internet.

Why gevent: a connection that sends its headers or body slowly, or sends nothing at all, costs a
greenlet, not one of a handful of threads, so it cannot starve the patients behind it. Each
connection has a deadline for its headers (`keepalive`) and for the rest of each request.

Why a worker of our own: gunicorn answers requests it cannot parse with an HTML page and logs
the reason, which quotes the raw bytes (a patient's message, a query string). Ours answers
with the API's JSON error shape and logs only the kind of error.

SIGHUP reloads the corpus without dropping a request: the master builds the new corpus first;
only if it loads cleanly are new workers forked with it and the old ones let finish what they
are answering (gunicorn's graceful reload). A broken corpus is logged file by file and the
old one stays in service.
"""
from __future__ import annotations

import atexit
import gc
import json
import logging
import os
import resource
import shutil
import socket
import tempfile
from typing import Any, Callable

import gevent
from flask import Flask
from gunicorn import glogging
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter as GunicornArbiter
from gunicorn.http import errors as http_errors
from gunicorn.workers.base_async import AsyncWorker
from gunicorn.workers.ggevent import GeventWorker

from .config import METRICS_DIR_ENV, Settings

# Seconds a connection may take to send a request's line and headers (also the keep-alive idle
# time), and then to send its body and be answered. Real clients need well under a second.
HEADER_SECONDS = 5
REQUEST_SECONDS = 15
# Open connections one worker will hold (slow and idle ones included) before others queue.
WORKER_CONNECTIONS = 4000
# After an error reply, how long and how much of what the client is still sending is read and
# dropped before closing (a "lingering close", as Apache does).
LINGER_SECONDS = 2
LINGER_BYTES = 1024 * 1024

STATUS_FOR = [  # the first matching class decides; anything else unparseable is a 400
    (http_errors.LimitRequestLine, 414, "uri_too_long", "The request address is too long."),
    (http_errors.LimitRequestHeaders, 431, "headers_too_large", "The request headers are too large."),
    (http_errors.UnsupportedTransferCoding, 501, "unsupported_transfer_coding", "That transfer coding is not supported."),
    (http_errors.ExpectationFailed, 417, "expectation_failed", "That Expect header is not supported."),
    (http_errors.ForbiddenProxyRequest, 403, "forbidden", "Requests through this proxy are not allowed."),
    (gevent.Timeout, 408, "request_timeout", "The request took too long to arrive."),
    (http_errors.ParseException, 400, "bad_request", "The request could not be read as HTTP."),
]


def error_bytes(status: int, code: str, message: str) -> bytes:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    head = (f"HTTP/1.1 {status} {code.replace('_', ' ').title()}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nCache-Control: no-store\r\n"
            "X-Content-Type-Options: nosniff\r\n\r\n")
    return head.encode("ascii") + body


class Worker(GeventWorker):
    """gunicorn's gevent worker with a per-request deadline and private, JSON error replies."""

    def handle(self, listener: Any, client: Any, addr: Any) -> None:
        client.setblocking(1)
        AsyncWorker.handle(self, listener, client, addr)

    def handle_request(self, listener_name: Any, req: Any, sock: Any, addr: Any) -> Any:
        with gevent.Timeout(REQUEST_SECONDS):
            return super().handle_request(listener_name, req, sock, addr)

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        for kind, status, code, message in STATUS_FOR:
            if isinstance(exc, kind):
                break
        else:
            status, code, message = 500, "internal_error", "Something went wrong on our side. Please try again."
        peer = addr[0] if isinstance(addr, tuple) and addr else "-"
        # The kind of error only: gunicorn's own text quotes the bytes it could not parse.
        self.log.warning("rejected a request from %s with %d (%s)", peer, status, type(exc).__name__)
        try:
            client.sendall(error_bytes(status, code, message))
            linger(client)
        except OSError:
            pass


def linger(client: socket.socket) -> None:
    """Read what the client is still sending, briefly, before the socket is closed.

    Closing a socket with unread bytes (the rest of a 10 KB address, a body nobody read) makes
    the kernel reset the connection, and a reset can reach the client before, or instead of,
    the error reply just written.
    """
    client.shutdown(socket.SHUT_WR)  # the reply is complete: the client sees its end
    read = 0
    with gevent.Timeout(LINGER_SECONDS, False):
        while read < LINGER_BYTES and (chunk := client.recv(65536)):
            read += len(chunk)


def share_with_workers() -> None:
    """Keep the loaded corpus shared by the forked workers: the cyclic collector writes to every
    object it visits, which would copy each page of it into each worker. Frozen objects are
    never visited. (Loading makes almost no cycles, so nothing is collected first.)"""
    gc.freeze()


def raise_open_files_limit() -> None:
    """Idle and slow connections each hold a file descriptor: allow as many as the system does."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 65536
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def prepare_metrics(settings: Settings) -> None:
    """Give prometheus-client its multiprocess storage. Must run before the library is imported.

    A fresh directory per start: files left by an earlier run would be counted again.
    """
    if settings.metrics == "off":
        return
    directory = tempfile.mkdtemp(prefix="ivig-bot-metrics-")
    os.environ[METRICS_DIR_ENV] = directory
    master = os.getpid()
    # Workers inherit exit handlers; only the master may remove what they all write to.
    atexit.register(lambda: os.getpid() == master and shutil.rmtree(directory, ignore_errors=True))


class Logger(glogging.Logger):
    """gunicorn's own lines in the format the bot's logs use (text, or JSON for pipelines)."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        ours = next((h.formatter for h in logging.getLogger().handlers if h.formatter), None)
        if ours is not None:
            for handler in self.error_log.handlers:
                handler.setFormatter(ours)


class Arbiter(GunicornArbiter):
    def handle_hup(self) -> None:
        if self.app.reload_corpus():
            super().handle_hup()  # forks workers with the new corpus, then retires the old ones


class Server(BaseApplication):
    """gunicorn, configured from Settings only (no gunicorn.conf.py or GUNICORN_CMD_ARGS is read).

    `rebuild` makes a new app from the corpus as it is now, or returns None (having logged
    why) when it cannot be loaded.
    """

    def __init__(self, app: Flask, settings: Settings, rebuild: Callable[[], Flask | None]) -> None:
        self.settings, self.rebuild = settings, rebuild
        super().__init__()
        self.callable = app

    def reload_corpus(self) -> bool:
        log = logging.getLogger(__name__)
        log.info("reloading the corpus from %s", self.settings.corpus_dir)
        gc.unfreeze()  # the corpus being replaced must be collectable once the old workers are gone
        try:
            app = self.rebuild()
        except Exception as error:  # noqa: BLE001 - an exception here would stop the whole server
            log.error("corpus reload failed with %s", type(error).__name__)
            app = None
        done = app is not None
        if app is not None:
            self.callable = app  # what gunicorn hands to the workers it forks next
            searcher = app.extensions["ivig_bot"]["dialogue"].searcher
            log.info("corpus reloaded: %d documents, %d passages", searcher.document_count, len(searcher.passages))
        else:
            log.error("corpus reload refused: still serving the previous corpus")
        metrics = self.callable.extensions["ivig_bot"]["metrics"]
        if metrics is not None:
            metrics.reloads.labels("done" if done else "refused").inc()
        del app
        # The old app is held in cycles (Flask and its rate limiter refer to each other): only a
        # collection frees it, and it must come before the survivors are frozen again.
        gc.collect()
        share_with_workers()
        return done

    def load_config(self) -> None:
        settings = self.settings
        # gunicorn's own debug lines quote raw request bytes, so it never logs below INFO.
        level = settings.log_level if logging.getLevelName(settings.log_level) >= logging.INFO else "INFO"
        for key, value in {
            "bind": f"{settings.host}:{settings.port}", "workers": settings.workers,
            "worker_class": f"{__name__}.Worker", "worker_connections": WORKER_CONNECTIONS,
            "keepalive": HEADER_SECONDS, "timeout": 30, "graceful_timeout": 10, "preload_app": True,
            "forwarded_allow_ips": settings.forwarded_allow_ips,
            "accesslog": None,  # the app logs each request itself: route, status, time, never the path
            "errorlog": "-", "loglevel": level.lower(),
            # One control socket per home directory would let one instance's stop break the others.
            "control_socket_disable": True,
            "logger_class": f"{__name__}.Logger",
            "when_ready": self.when_ready, "child_exit": child_exit,
        }.items():
            self.cfg.set(key, value)

    def when_ready(self, arbiter: Any) -> None:
        if self.settings.metrics_listener is not None:
            from .metrics import serve_separately

            host, port = self.settings.metrics_listener
            serve_separately(host, port)
            arbiter.log.info("metrics at http://%s:%d/metrics", host, port)

    def load(self) -> Flask:
        return self.callable

    def run(self) -> None:
        raise_open_files_limit()
        share_with_workers()
        try:
            Arbiter(self).run()
        except RuntimeError as error:  # gunicorn's own start-up failures, as its run() reports them
            logging.getLogger(__name__).error("%s", error)
            raise SystemExit(1) from None


def child_exit(arbiter: Any, worker: Any) -> None:
    if os.environ.get(METRICS_DIR_ENV):
        from .metrics import process_gone

        process_gone(worker.pid)
