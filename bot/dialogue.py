"""Stage 6: one conversational turn, from a patient's message to a reply.

The server keeps no per-user state: what the next turn needs (the topic and which passages
were shown) travels in a small signed `context` string that the client sends back. Anything
that does not verify is ignored, so tampered or foreign context can never break a turn.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from itsdangerous import BadData, URLSafeSerializer

from . import intents, templates
from .config import Settings
from .search import Hit, Query, Searcher
from .suggestions import Suggester
from .urgent import UrgentDetector, Urgency

FOLLOW_UP_WEIGHT = 0.5  # the previous topic counts half as much as the new words
MAX_TOPIC_TERMS = 8
MAX_SHOWN = 24
MAX_CONTEXT_CHARS = 2048


@dataclass(frozen=True)
class Conversation:
    """What one turn hands to the next."""

    topic: tuple[tuple[str, float], ...] = ()
    shown: tuple[int, ...] = ()

    def as_query(self) -> Query:
        return Query(self.topic, self.topic)


@dataclass(frozen=True)
class Reply:
    kind: str
    reply: str
    passages: tuple[Hit, ...] = ()
    urgent: Urgency | None = None
    suggestions: tuple[str, ...] = ()
    conversation: Conversation = field(default_factory=Conversation)


class ContextCodec:
    """Signs the context, and ties it to one corpus: passage numbers mean nothing elsewhere."""

    def __init__(self, secret: str, corpus: str) -> None:
        self._serializer = URLSafeSerializer(secret, salt="ivig-bot.context")
        self._corpus = corpus[:8]

    def encode(self, conversation: Conversation) -> str:
        return self._serializer.dumps({"c": self._corpus, "t": [[t, round(w, 3)] for t, w in conversation.topic],
                                       "s": list(conversation.shown)})

    def decode(self, token: Any) -> Conversation | None:
        if not isinstance(token, str) or not token or len(token) > MAX_CONTEXT_CHARS:
            return None
        try:
            data = self._serializer.loads(token)
            if data["c"] != self._corpus:
                return None
            topic = tuple((str(t), float(w)) for t, w in data["t"])
            shown = tuple(int(i) for i in data["s"])
        except (BadData, KeyError, TypeError, ValueError):
            return None
        return Conversation(topic, shown)


class Dialogue:
    def __init__(self, searcher: Searcher, settings: Settings) -> None:
        self.searcher = searcher
        self.disclaimer = settings.disclaimer
        secret = settings.secret_key or hashlib.sha256(b"ivig-bot.context:" + searcher.fingerprint.encode()).hexdigest()
        self.codec = ContextCodec(secret, searcher.fingerprint)
        self.urgent = UrgentDetector()
        self.suggester = Suggester(searcher)

    # -- one turn --------------------------------------------------------------------------
    def respond(self, message: str, context: Any = None) -> Reply:
        conversation = self.codec.decode(context) or Conversation()
        urgency = self.urgent.detect(message)  # first, and nothing below can undo it
        if urgency is None:
            kind = intents.small_talk(message)
            if kind is not None:
                return Reply("small_talk", templates.SMALL_TALK[kind], suggestions=self.suggester.starters,
                             conversation=conversation)
            if intents.wants_more(message):
                return self._more(conversation)
        return self._question(message, conversation, urgency)

    def welcome(self) -> Reply:
        return Reply("small_talk", templates.SMALL_TALK["greeting"], suggestions=self.suggester.starters)

    def _question(self, message: str, conversation: Conversation, urgency: Urgency | None) -> Reply:
        query = self.searcher.parse(message)
        if urgency is not None and urgency.search_hint:
            query = query.plus(self.searcher.parse(urgency.search_hint), 1.0)
        follow_up = bool(conversation.topic) and (query.is_empty or intents.is_follow_up(message))
        if follow_up:
            query = query.plus(conversation.as_query(), FOLLOW_UP_WEIGHT)
        hits = tuple(self.searcher.search(query))
        topic = query.content if hits else conversation.topic
        next_turn = Conversation(strongest(topic), tuple(h.id for h in hits))
        suggestions = self.suggester.after(hits) if hits else self.suggester.starters
        if urgency is not None:
            text = templates.URGENT_REPLY if hits else templates.URGENT_REPLY_NO_PASSAGES
            return Reply("urgent", text, hits, urgency, suggestions, next_turn)
        if intents.is_personal(message):
            text = templates.PERSONAL if hits else templates.PERSONAL_NO_MATCH
            return Reply("personal", text, hits, None, suggestions, next_turn)
        if not hits:
            return Reply("no_match", templates.NO_MATCH, (), None, suggestions, next_turn)
        if follow_up:
            text = templates.FOLLOW_UP
        elif query.corrections:
            changes = ", ".join(f"“{wrong}” as “{right}”" for wrong, right in query.corrections)
            text = templates.ANSWER_CORRECTED.format(changes=changes)
        else:
            text = templates.ANSWER
        return Reply("answer", text, hits, None, suggestions, next_turn)

    def _more(self, conversation: Conversation) -> Reply:
        if not conversation.topic:
            return Reply("no_more", templates.MORE_WITHOUT_TOPIC, suggestions=self.suggester.starters)
        hits = tuple(self.searcher.search(conversation.as_query(), exclude=frozenset(conversation.shown)))
        if not hits:
            return Reply("no_more", templates.NO_MORE, suggestions=self.suggester.starters, conversation=conversation)
        shown = (conversation.shown + tuple(h.id for h in hits))[-MAX_SHOWN:]
        return Reply("more", templates.MORE, hits, None, self.suggester.after(hits), Conversation(conversation.topic, shown))

    # -- the wire format, shared by the HTTP API and `ivig-bot ask --json` -------------------
    def to_json(self, reply: Reply) -> dict[str, Any]:
        return {
            "kind": reply.kind,
            "reply": reply.reply,
            "urgent": None if reply.urgent is None else {
                "category": reply.urgent.category,
                "title": templates.URGENT_TITLE,
                "message": templates.URGENT_SELF_HARM_MESSAGE if reply.urgent.category == "self_harm" else templates.URGENT_MESSAGE,
            },
            "passages": [
                {
                    "text": h.passage.text,
                    "score": round(h.score, 3),
                    "source": {
                        "document": h.passage.document,
                        "title": h.passage.title,
                        "publisher": h.passage.publisher,
                        "section": h.passage.section,
                        "url": h.passage.url or None,
                        "caveat": h.passage.caveat or None,
                    },
                }
                for h in reply.passages
            ],
            "suggestions": list(reply.suggestions),
            "context": self.codec.encode(reply.conversation),
            "disclaimer": self.disclaimer,
        }


def strongest(terms: tuple[tuple[str, float], ...]) -> tuple[tuple[str, float], ...]:
    """The topic's heaviest terms, so the context stays a few hundred bytes."""
    return tuple(sorted(terms, key=lambda tw: -tw[1])[:MAX_TOPIC_TERMS])
