"""Insights for content staff: which questions go unanswered and which answers do not help,
without keeping anything a patient typed.

What is recorded, per reply: its kind, the urgent category if any, the corpus fingerprint and
the day (no time of day). For `no_match` and `personal` replies, also the question's content
terms after analysis: stemmed, de-duplicated and sorted. Only words the corpus or the bot's own
word lists use are kept (an allow-list), after numbers, e-mail addresses, phone numbers and the
words after name cues ("my name is", "Dr", "my wife") are dropped. Sorted stems
keep no word order, no small words and no personal names, so the message cannot be rebuilt from
them. Feedback is the ids of the passages shown, the vote and the day. Never the message, an
address, a session or anything else that identifies a person.

Storage is SQLite in the state directory (WAL mode: safe for several workers on one machine),
or PostgreSQL for replicas. A storage failure never fails a patient's request: it is logged
(without content) and counted.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

from itsdangerous import BadData, URLSafeTimedSerializer

log = logging.getLogger(__name__)

RECORD_TERMS_FOR = frozenset({"no_match", "personal"})
FEEDBACK_MAX_AGE = 7 * 24 * 3600  # an answer can be rated for a week
EMAIL = re.compile(r"\S+@\S+")
PHONE = re.compile(r"\+?\d[\d ()./-]{5,}\d")
WORD = re.compile(r"[^\W\d_]+")

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS replies (day TEXT NOT NULL, corpus TEXT NOT NULL, kind TEXT NOT NULL, "
    "category TEXT, terms TEXT)",
    "CREATE TABLE IF NOT EXISTS feedback (day TEXT NOT NULL, corpus TEXT NOT NULL, passages TEXT NOT NULL, "
    "helpful INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS replies_day ON replies (day)",
    "CREATE INDEX IF NOT EXISTS feedback_day ON feedback (day)",
)


class InsightsError(ValueError):
    """A feedback request that cannot be accepted (forged, expired or from another corpus)."""


def today() -> str:
    return dt.date.today().isoformat()


# Words after which patients name someone: the next two words are dropped whatever their case.
NAME_CUES = re.compile(r"\b(?:name is|names|named|called|i am|i'm|im|this is|dr|doctor|mr|mrs|ms|miss|my (?:son|daughter|wife|"
                       r"husband|partner|mum|mom|mother|dad|father|brother|sister|friend|boyfriend|girlfriend|child|kid|"
                       r"baby|grandson|granddaughter|nurse)|at|on|in|from|to|dot)\s+(\w+)(?:\s+(\w+))?", re.I)


def safe_terms(text: str, understander: Any, topic_words: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """The question's content terms, with nothing that could identify a person (see module doc).

    An allow-list, not a filter: a word is kept only if the clinic's documents or the bot's own
    word lists (triage, intents, topic words) use it, so names, places and addresses are never
    kept, whatever their spelling or case.
    """
    corrector, analyzer = understander.corrector, understander.analyzer
    text = PHONE.sub(" ", EMAIL.sub(" ", text))
    cued = {w.lower() for m in NAME_CUES.finditer(text) for w in m.groups() if w}
    words = [w for w in WORD.findall(text) if w.lower() not in cued]
    message = understander.read(" ".join(words))
    kept = [w for w in message.words
            if (corrector.is_domain_word(w) or w in topic_words) and w not in analyzer.stop_words]
    return tuple(sorted({t for t in analyzer.terms_from_tokens(kept) if t.replace("_", "").isalpha()}))


class Store:
    """SQLite or PostgreSQL, one connection per process (created after gunicorn forks)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.postgres = url.startswith(("postgresql://", "postgres://"))
        self._connection: Any = None
        self._pid = 0
        self._lock: Any = None

    def connection(self) -> Any:
        if self._connection is None or self._pid != os.getpid():
            # Made in the worker, after gunicorn forks and gevent patches threading: a lock made
            # before that would block the whole worker while a query yields.
            if self._pid != os.getpid():
                self._lock = threading.Lock()
            if self.postgres:
                import psycopg  # only needed with a PostgreSQL URL

                self._connection = psycopg.connect(self.url, autocommit=True, connect_timeout=5)
            else:
                path = Path(self.url.removeprefix("sqlite:///"))
                path.parent.mkdir(parents=True, exist_ok=True)
                # A short busy timeout: waiting blocks the worker's other greenlets, and a lost row is tolerated.
                self._connection = sqlite3.connect(path, timeout=0.2, isolation_level=None, check_same_thread=False)
                self._connection.execute("PRAGMA journal_mode=WAL")
                self._connection.execute("PRAGMA synchronous=NORMAL")
            self._pid = os.getpid()
            for statement in SCHEMA:
                self._connection.execute(statement)
        return self._connection

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> list[tuple]:
        if self.postgres:
            sql = sql.replace("?", "%s")
        connection = self.connection()
        with self._lock:
            try:
                cursor = connection.execute(sql, parameters)
                return list(cursor.fetchall()) if cursor.description else []
            except Exception:
                self._connection = None  # reconnect next time: a restarted server must not lose insights for good
                raise


@dataclass
class Insights:
    store: Store | None  # None: recording is off
    corpus: str
    secret: str
    retention_days: int = 90
    failures: int = 0  # storage failures since start (logged, never shown to a patient)

    def __post_init__(self) -> None:
        self._signer = URLSafeTimedSerializer(self.secret, salt="ivig-bot.feedback")
        self._pruned_on = ""

    # -- recording -------------------------------------------------------------------------
    def record_reply(self, kind: str, category: str | None, terms: Iterable[str] = ()) -> None:
        self._write("INSERT INTO replies (day, corpus, kind, category, terms) VALUES (?, ?, ?, ?, ?)",
                    (today(), self.corpus, kind, category, " ".join(terms) if kind in RECORD_TERMS_FOR else None))

    def answer_id(self, passages: Sequence[int]) -> str | None:
        """An opaque id for rating an answer: the passages shown, signed and dated."""
        return self._signer.dumps({"c": self.corpus[:8], "p": list(passages)}) if self.store and passages else None

    def record_feedback(self, answer_id: Any, helpful: Any) -> None:
        if not isinstance(helpful, bool):
            raise InsightsError('"helpful" must be true or false.')
        if not isinstance(answer_id, str) or len(answer_id) > 500:
            raise InsightsError('"answer_id" must be the id of an answer.')
        try:
            data = self._signer.loads(answer_id, max_age=FEEDBACK_MAX_AGE)
            passages = [int(p) for p in data["p"]][:10]
            if data["c"] != self.corpus[:8]:
                raise ValueError
        except (BadData, KeyError, TypeError, ValueError):
            raise InsightsError("This answer can no longer be rated.") from None
        self._write("INSERT INTO feedback (day, corpus, passages, helpful) VALUES (?, ?, ?, ?)",
                    (today(), self.corpus, json.dumps(passages), int(helpful)))

    def _write(self, sql: str, parameters: Sequence[Any]) -> None:
        if self.store is None:
            return
        try:
            self.store.execute(sql, parameters)
            if self._pruned_on != today():
                self.prune()
        except Exception as error:  # noqa: BLE001 - storage must never fail a patient's request
            self.failures += 1
            log.warning("insights storage failed (%s); the reply was still sent", type(error).__name__)

    def prune(self) -> None:
        """Delete rows older than the retention period (done once a day per process)."""
        cutoff = (dt.date.today() - dt.timedelta(days=self.retention_days)).isoformat()
        for table in ("replies", "feedback"):
            self.store.execute(f"DELETE FROM {table} WHERE day < ?", (cutoff,))
        self._pruned_on = today()

    # -- reporting -------------------------------------------------------------------------
    def report(self, days: int) -> dict[str, Any]:
        """Rates per day, the commonest unanswered term sets, the least helpful passages."""
        since = (dt.date.today() - dt.timedelta(days=days - 1)).isoformat()
        rows = self.store.execute("SELECT day, kind, COUNT(*) FROM replies WHERE day >= ? AND corpus = ? "
                                  "GROUP BY day, kind ORDER BY day", (since, self.corpus))
        per_day: dict[str, dict[str, int]] = {}
        for day, kind, count in rows:
            per_day.setdefault(str(day), {})[kind] = int(count)
        unanswered = self.store.execute(
            "SELECT terms, COUNT(*) AS n FROM replies WHERE day >= ? AND corpus = ? AND kind = 'no_match' "
            "AND terms IS NOT NULL AND terms <> '' GROUP BY terms ORDER BY n DESC, terms LIMIT 20", (since, self.corpus))
        votes = self.store.execute("SELECT passages, helpful FROM feedback WHERE day >= ? AND corpus = ?",
                                   (since, self.corpus))
        unhelpful: dict[int, list[int]] = {}
        for passages, helpful in votes:
            for passage in json.loads(passages):
                counts = unhelpful.setdefault(int(passage), [0, 0])
                counts[0 if helpful else 1] += 1
        return {
            "days": days,
            "per_day": [{"day": day, "total": sum(kinds.values()),
                         **{k: round(kinds.get(k, 0) / sum(kinds.values()), 3)
                            for k in ("answer", "no_match", "urgent", "personal")}}
                        for day, kinds in per_day.items()],
            "unanswered": [{"terms": terms.split(), "count": int(n)} for terms, n in unanswered],
            "not_helpful": sorted(({"passage": p, "not_helpful": c[1], "helpful": c[0]} for p, c in unhelpful.items()
                                   if c[1]), key=lambda r: (-r["not_helpful"], r["passage"]))[:10],
        }


def open_insights(mode: str, url: str | None, state_dir: Path, corpus: str, secret: str, retention_days: int) -> Insights:
    """Insights as configured: off, SQLite in the state directory, or PostgreSQL."""
    if mode == "off":
        return Insights(None, corpus, secret, retention_days)
    return Insights(Store(url or f"sqlite:///{state_dir / 'insights.sqlite3'}"), corpus, secret, retention_days)
