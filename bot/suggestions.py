"""Follow-up questions the corpus can actually answer: the example questions content staff wrote
for each section (see README, "Example questions"), or the section heading where there are none."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from itertools import zip_longest
from typing import Sequence

from .search import Hit, Searcher

MAX_SUGGESTIONS = 3


@dataclass(frozen=True)
class Topic:
    passages: frozenset[int]  # what the button leads to
    label: str  # what the button says, and what it sends


class Suggester:
    def __init__(self, searcher: Searcher) -> None:
        self._searcher = searcher
        headings = Counter(section for _, section in {(p.document, p.section) for p in searcher.passages})
        # One topic per group of passages that share example questions (a passage content staff
        # wrote questions for), else one per section, labelled with its heading.
        groups: dict[tuple[str, str, tuple[str, ...]], list[int]] = {}
        for i, p in enumerate(searcher.passages):
            groups.setdefault((p.document, p.section, p.questions[:1]), []).append(i)
        by_document: dict[str, list[Topic]] = {}
        for (document, section, asked), members in groups.items():
            title = searcher.passages[members[0]].title
            # A heading many documents share ("Symptoms") needs its document's title to mean anything.
            heading = f"{section}: {title}" if headings[section] > 1 and title != section else section
            by_document.setdefault(document, []).append(Topic(frozenset(members), asked[0] if asked else heading))
        self._by_document = by_document
        self._answerable: dict[Topic, bool] = {}
        # Opening suggestions: one topic from each document in turn.
        first = [t for group in zip_longest(*list(by_document.values())[:MAX_SUGGESTIONS * 2]) for t in group if t]
        self._starter_topics = self._pick(first, exclude=set())
        self.starters: tuple[str, ...] = tuple(t.label for t in self._starter_topics)

    def answerable(self, topic: Topic) -> bool:
        """True when asking the label really leads to the topic's passages (checked once each)."""
        known = self._answerable.get(topic)
        if known is None:
            hits = self._searcher.search(self._searcher.parse(topic.label), k=1)
            known = self._answerable[topic] = bool(hits) and hits[0].id in topic.passages
        return known

    def _pick(self, topics: Sequence[Topic], exclude: set[int]) -> tuple[Topic, ...]:
        """Up to MAX_SUGGESTIONS answerable topics with distinct labels, none leading to `exclude`."""
        chosen: list[Topic] = []
        for topic in topics:
            if len(chosen) == MAX_SUGGESTIONS:
                break
            if not topic.passages & exclude and all(topic.label != c.label for c in chosen) and self.answerable(topic):
                chosen.append(topic)
        return tuple(chosen)

    def after(self, hits: Sequence[Hit]) -> tuple[str, ...]:
        """Other topics of the documents just quoted, then the opening topics: never what was just shown."""
        shown = {h.id for h in hits}
        nearby = [t for h in hits for t in self._by_document.get(h.passage.document, ())]
        return tuple(t.label for t in self._pick([*nearby, *self._starter_topics], shown))
