"""Follow-up questions the corpus can actually answer, derived from its section headings."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from itertools import zip_longest
from typing import Sequence

from .search import Hit, Searcher

MAX_SUGGESTIONS = 3


@dataclass(frozen=True)
class Topic:
    document: str
    section: str
    label: str  # what the button says, and what it sends


class Suggester:
    def __init__(self, searcher: Searcher) -> None:
        self._searcher = searcher
        sections: dict[tuple[str, str], str] = {}  # (document, section) -> document title
        headings: Counter[str] = Counter()
        for p in searcher.passages:
            if (p.document, p.section) not in sections:
                sections[(p.document, p.section)] = p.title
                headings[p.section] += 1
        by_document: dict[str, list[Topic]] = {}
        for (document, section), title in sections.items():
            # A heading many documents share ("Symptoms") needs its document's title to mean anything.
            label = f"{section}: {title}" if headings[section] > 1 and title != section else section
            by_document.setdefault(document, []).append(Topic(document, section, label))
        self._by_document = by_document
        self._answerable: dict[tuple[str, str], bool] = {}
        # Opening suggestions: one topic from each document in turn.
        first = [t for group in zip_longest(*list(by_document.values())[:MAX_SUGGESTIONS * 2]) for t in group if t]
        self._starter_topics = self._pick(first, exclude=set())
        self.starters: tuple[str, ...] = tuple(t.label for t in self._starter_topics)

    def answerable(self, topic: Topic) -> bool:
        """True when asking the label really lands in that section (checked once per section)."""
        key = (topic.document, topic.section)
        known = self._answerable.get(key)
        if known is None:
            hits = self._searcher.search(self._searcher.parse(topic.label), k=1)
            known = bool(hits) and (hits[0].passage.document, hits[0].passage.section) == key
            self._answerable[key] = known
        return known

    def _pick(self, topics: Sequence[Topic], exclude: set[tuple[str, str]]) -> tuple[Topic, ...]:
        """Up to MAX_SUGGESTIONS answerable topics with distinct labels, outside `exclude`."""
        chosen: list[Topic] = []
        for topic in topics:
            if len(chosen) == MAX_SUGGESTIONS:
                break
            if ((topic.document, topic.section) not in exclude and all(topic.label != c.label for c in chosen)
                    and self.answerable(topic)):
                chosen.append(topic)
        return tuple(chosen)

    def after(self, hits: Sequence[Hit]) -> tuple[str, ...]:
        """Other sections of the documents just quoted, then the opening topics."""
        shown = {(h.passage.document, h.passage.section) for h in hits}
        nearby = [t for h in hits for t in self._by_document.get(h.passage.document, ())]
        return tuple(t.label for t in self._pick([*nearby, *self._starter_topics], shown))
