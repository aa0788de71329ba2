"""Prometheus metrics (prometheus-client): counts and timings only, never a message's words.

Labels are fixed vocabularies the bot owns (a route pattern, a status code, a reply kind, a
triage category), so nothing a patient typed can become a label.

Under gunicorn each worker is its own process. `serve` therefore switches prometheus-client to
its multiprocess mode: PROMETHEUS_MULTIPROC_DIR names a directory of per-process files, and it
must be set before the library is first imported (the library picks its storage then). A scrape
then adds up every worker. A library user or a test gets a plain registry per app.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest, values
from prometheus_client import multiprocess, start_http_server

from .config import METRICS_DIR_ENV

CONTENT_TYPE = CONTENT_TYPE_LATEST
# Replies take milliseconds; the tail is what an operator watches.
LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


def multiprocess_mode() -> bool:
    return bool(os.environ.get(METRICS_DIR_ENV))


@dataclass(frozen=True)
class Metrics:
    registry: CollectorRegistry
    requests: Counter
    latency: Histogram
    replies: Counter
    urgent: Counter
    documents: Gauge
    passages: Gauge
    load_seconds: Gauge
    loaded_from_cache: Gauge
    reloads: Counter

    @classmethod
    def create(cls) -> "Metrics":
        if multiprocess_mode() and values.ValueClass is values.MutexValue:
            raise RuntimeError(f"prometheus_client was imported before {METRICS_DIR_ENV} was set")
        registry = CollectorRegistry()

        def gauge(name: str, documentation: str) -> Gauge:
            # Set by whichever process loaded the corpus last (the master, on start and on HUP).
            return Gauge(name, documentation, registry=registry, multiprocess_mode="mostrecent")

        return cls(
            registry=registry,
            requests=Counter("ivig_bot_requests", "HTTP requests answered, by route and status.",
                             ["route", "status"], registry=registry),
            latency=Histogram("ivig_bot_request_seconds", "Time to answer a request, by route.", ["route"],
                              buckets=LATENCY_BUCKETS, registry=registry),
            replies=Counter("ivig_bot_replies", "Chat replies, by kind.", ["kind"], registry=registry),
            urgent=Counter("ivig_bot_urgent_replies", "Urgent replies, by triage category.", ["category"],
                           registry=registry),
            documents=gauge("ivig_bot_documents", "Documents in the corpus being served."),
            passages=gauge("ivig_bot_passages", "Passages in the index being served."),
            load_seconds=gauge("ivig_bot_index_load_seconds", "Seconds the last corpus load took (build or cache)."),
            loaded_from_cache=gauge("ivig_bot_index_from_cache", "1 if the index being served came from the cache."),
            reloads=Counter("ivig_bot_corpus_reloads", "Corpus reloads asked for with SIGHUP, by result.", ["result"],
                            registry=registry),
        )

    def corpus_loaded(self, documents: int, passages: int, seconds: float, from_cache: bool) -> None:
        self.documents.set(documents)
        self.passages.set(passages)
        self.load_seconds.set(seconds)
        self.loaded_from_cache.set(1 if from_cache else 0)

    def exposition(self) -> bytes:
        return generate_latest(scrape_registry() if multiprocess_mode() else self.registry)


def scrape_registry() -> CollectorRegistry:
    """What a scrape reads in multiprocess mode: every process's files, added up."""
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def serve_separately(host: str, port: int) -> None:
    """A listener of its own (a thread in gunicorn's master), for scrapers on a private network."""
    start_http_server(port, addr=host, registry=scrape_registry())


def process_gone(pid: int) -> None:
    """A worker exited: drop its live-only files (its counts stay in the totals)."""
    multiprocess.mark_process_dead(pid)
