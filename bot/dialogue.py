"""Stage 7: one conversational turn, from a patient's message to a reply.

Each message is read once (understanding), checked for an emergency before anything else
(triage), classified (intents) and answered from the documents (search). The server keeps no
per-user state: what the next turn needs (the topic, which passages were shown and which were
folded away) travels in a small signed `context` string that the client sends back. Anything
that does not verify is ignored, so tampered or foreign context can never break a turn.
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field, replace
from typing import Any

from itsdangerous import BadData, URLSafeSerializer

from . import intents as intents_module
from . import templates, triage as triage_module
from .cache import Cache, collection_paused
from .config import Settings
from .intents import SMALL_TALK, Intents
from .search import Hit, Query, Searcher, build_searcher
from .state import context_key
from .suggestions import Suggester
from .triage import Triage, Urgency
from .understanding import Message, Models

log = logging.getLogger(__name__)

FOLLOW_UP_WEIGHT = 0.5  # the previous topic counts half as much as the new words
NEW_ANSWER_SHARE = 0.7  # a follow-up gets a new passage only if it scores this share of the best one
MAX_TOPIC_TERMS = 8
MAX_SHOWN = 24
MAX_CONTEXT_CHARS = 2048
MAX_TERM_CHARS = 64


@dataclass(frozen=True)
class Conversation:
    """What one turn hands to the next."""

    topic: tuple[tuple[str, float], ...] = ()
    shown: tuple[int, ...] = ()  # passages shown in full
    folded: tuple[int, ...] = ()  # passages returned but folded under "More from the documents"

    def as_query(self) -> Query:
        # The topic's terms stand in for the earlier question's words (a synonym group's
        # "side_effect" for "side effect"), so that the scope classifier and the question matcher
        # judge a follow-up ("how long do they last?") with its topic in it.
        return Query(self.topic, self.topic, stems=tuple(part for term, _ in self.topic for part in term.split("_")))


@dataclass(frozen=True)
class Reply:
    kind: str
    reply: str
    passages: tuple[Hit, ...] = ()
    urgent: Urgency | None = None
    suggestions: tuple[str, ...] = ()
    conversation: Conversation = field(default_factory=Conversation)
    support: str = ""  # the crisis line, on a reply without an alarm that mentions self-harm


class ContextCodec:
    """Signs the context, and ties it to one corpus: passage numbers mean nothing elsewhere."""

    def __init__(self, secret: str, corpus: str, passages: int) -> None:
        self._serializer = URLSafeSerializer(secret, salt="ivig-bot.context")
        self._corpus = corpus[:8]
        self._passages = passages

    def encode(self, conversation: Conversation) -> str:
        return self._serializer.dumps({"c": self._corpus, "t": [[t, round(w, 3)] for t, w in conversation.topic],
                                       "s": list(conversation.shown), "f": list(conversation.folded)})

    def decode(self, token: Any) -> Conversation | None:
        if not isinstance(token, str) or not token or len(token) > MAX_CONTEXT_CHARS:
            return None
        try:
            data = self._serializer.loads(token)
            if data["c"] != self._corpus:
                return None
            topic = tuple((t, float(w)) for t, w in data["t"][:MAX_TOPIC_TERMS]
                          if isinstance(t, str) and len(t) <= MAX_TERM_CHARS and isinstance(w, (int, float))
                          and math.isfinite(w) and 0 < w <= 10)
            shown = self._ids(data["s"])
            folded = self._ids(data.get("f", []))
        except (BadData, KeyError, TypeError, ValueError, AttributeError):
            return None
        return Conversation(topic, shown, folded)

    def _ids(self, values: Any) -> tuple[int, ...]:
        """Passage numbers that exist in this corpus; anything else is dropped."""
        return tuple(v for v in values[:MAX_SHOWN] if isinstance(v, int) and not isinstance(v, bool)
                     and 0 <= v < self._passages)


class Dialogue:
    def __init__(self, searcher: Searcher, settings: Settings) -> None:
        self.searcher = searcher
        self.understander = searcher.understander
        self.disclaimer = settings.disclaimer
        self.contacts = {
            "emergency_number": settings.emergency_number,
            "crisis_line": settings.crisis_line,
            "clinic_phone": settings.clinic_phone,
        }
        self._wording = {
            "emergency_number": settings.emergency_number or templates.DEFAULT_EMERGENCY_NUMBER,
            "crisis_line": settings.crisis_line or templates.DEFAULT_CRISIS_LINE,
            "clinic_phone": settings.clinic_phone or templates.DEFAULT_CLINIC_PHONE,
        }
        secret = settings.secret_key or context_key(settings.state_dir)
        self.signing_key = secret  # also signs feedback ids (bot/insights.py), with its own salt
        self.codec = ContextCodec(secret, searcher.fingerprint, len(searcher.passages))
        derived = Cache.for_corpus(settings.index_cache_dir, searcher.fingerprint)
        self.triage = Triage.load(self.understander, cache=derived)
        self.intents = Intents.load(self.understander, cache=derived)
        missing = {c.name for c in self.triage.categories} - set(templates.URGENT)
        if missing:
            raise triage_module.TriageError(f"no notice in bot/templates.py for triage categories {sorted(missing)}")
        self.suggester = Suggester(searcher)

    def say(self, template: str) -> str:
        """A template with the clinic's contacts filled in."""
        return template.format(**self._wording)

    # -- one turn --------------------------------------------------------------------------
    def respond(self, text: str, context: Any = None) -> Reply:
        conversation = self.codec.decode(context) or Conversation()
        message = self.understander.read(text)
        verdict = self.triage.judge(message)  # first, and nothing below can undo it
        reply = self._turn(message, conversation, verdict.urgency)
        return replace(reply, support=self.say(templates.SUPPORT_NOTE)) if verdict.support else reply

    def _turn(self, message: Message, conversation: Conversation, urgency: Urgency | None) -> Reply:
        if message.language != "en":
            notice = self.say(templates.LANGUAGE_NOTICE.get(message.language, templates.LANGUAGE_NOTICE_DEFAULT))
            return Reply("urgent" if urgency else "other_language", notice, urgent=urgency, conversation=conversation)
        intent = "factual" if urgency else self.intents.intent(message)
        if intent in SMALL_TALK:
            return Reply("small_talk", templates.SMALL_TALK[intent], suggestions=self.suggester.starters,
                         conversation=conversation)
        if intent == "more":
            return self._more(conversation)
        return self._question(message, intent, conversation, urgency)

    def welcome(self) -> Reply:
        return Reply("small_talk", templates.SMALL_TALK["greeting"], suggestions=self.suggester.starters)

    def _question(self, message: Message, intent: str, conversation: Conversation, urgency: Urgency | None) -> Reply:
        query = self.searcher.parse(message)
        if urgency is not None and urgency.search_hint:
            query = query.plus(self.searcher.parse(urgency.search_hint), 1.0)
        follow_up = bool(conversation.topic) and (query.is_empty or self.intents.is_follow_up(message))
        repeated = False
        if follow_up:
            query = query.plus(conversation.as_query(), FOLLOW_UP_WEIGHT)
            seen = frozenset(conversation.shown + conversation.folded)
            fresh = tuple(self.searcher.search(query, exclude=seen))
            hits = tuple(self.searcher.search(query))
            # Something new only if it answers about as well as what was already shown; else the
            # earlier answer again, saying so ("is there a cheaper option?" after the cost passage).
            repeated = bool(hits) and hits[0].id in seen and (not fresh or fresh[0].score < NEW_ANSWER_SHARE * hits[0].score)
            hits = hits if repeated else fresh
        else:
            hits = tuple(self.searcher.search(query))
        topic = query.content if hits else conversation.topic
        next_turn = Conversation(strongest(topic), tuple(h.id for h in hits[:1]), tuple(h.id for h in hits[1:]))
        suggestions = self.suggester.after(hits) if hits else self.suggester.starters
        if urgency is not None:
            text = templates.URGENT_REPLY if hits else templates.URGENT_REPLY_NO_PASSAGES
            return Reply("urgent", text, hits, urgency, suggestions, next_turn)
        if intent == "dose":
            return Reply("personal", templates.DOSE if hits else templates.DOSE_NO_MATCH, hits, None, suggestions, next_turn)
        if intent == "personal":
            text = templates.PERSONAL if hits else templates.PERSONAL_NO_MATCH
            return Reply("personal", text, hits, None, suggestions, next_turn)
        if not hits:
            text = self.say(templates.NO_MATCH_SYMPTOM) if self.triage.mentions_symptom(message) else templates.NO_MATCH
            return Reply("no_match", text, (), None, suggestions, next_turn)
        if repeated:
            text = templates.REPEATED
        elif follow_up:
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
        if conversation.folded:  # what was folded away comes first
            hits = tuple(self._hit(i) for i in conversation.folded)
        else:
            seen = frozenset(conversation.shown + conversation.folded)
            hits = tuple(self.searcher.search(conversation.as_query(), exclude=seen))
        if not hits:
            return Reply("no_more", templates.NO_MORE, suggestions=self.suggester.starters, conversation=conversation)
        shown = (conversation.shown + tuple(h.id for h in hits))[-MAX_SHOWN:]
        return Reply("more", templates.MORE, hits, None, self.suggester.after(hits), Conversation(conversation.topic, shown))

    def _hit(self, passage: int) -> Hit:
        return Hit(passage, self.searcher.passages[passage], 0.0, 1.0)

    # -- the wire format, shared by the HTTP API and `ivig-bot ask --json` -------------------
    def to_json(self, reply: Reply) -> dict[str, Any]:
        return {
            "kind": reply.kind,
            "reply": reply.reply,
            "urgent": None if reply.urgent is None else {
                "category": reply.urgent.category,
                "severity": reply.urgent.severity,
                "action": self.say(templates.SEVERITY_LABEL[reply.urgent.severity]),
                "title": templates.URGENT[reply.urgent.category][0],
                "message": self.say(templates.URGENT[reply.urgent.category][1]),
                "contacts": dict(self.contacts),
            },
            "passages": [
                {
                    "text": h.passage.text,
                    "score": round(h.score, 3) if math.isfinite(h.score) else 0.0,
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
            "support": {"message": reply.support, "contacts": dict(self.contacts)} if reply.support else None,
            "suggestions": list(reply.suggestions),
            "context": self.codec.encode(reply.conversation),
            "disclaimer": self.disclaimer,
        }


def strongest(terms: tuple[tuple[str, float], ...]) -> tuple[tuple[str, float], ...]:
    """The topic's heaviest terms, so the context stays a few hundred bytes."""
    return tuple(sorted(terms, key=lambda tw: -tw[1])[:MAX_TOPIC_TERMS])


def build_dialogue(settings: Settings, models: Models | None = None) -> Dialogue:
    """Everything a server or the CLI needs, from settings: corpus, index, understanding, dialogue."""
    started = time.perf_counter()
    # Loading makes millions of small objects and almost no cycles: the cyclic collector would
    # walk them again and again for nothing (a third of a cached library's load time).
    with collection_paused():
        words = triage_module.vocabulary(cache_dir=settings.index_cache_dir) | intents_module.vocabulary()
        dialogue = Dialogue(build_searcher(settings, models, domain_words=words), settings)
    searcher = dialogue.searcher
    log.info("loaded %d documents, %d passages in %.2f s (index %s)", searcher.document_count, len(searcher.passages),
             time.perf_counter() - started, "from the cache" if searcher.from_cache else "built")
    return dialogue
