"""Stage 2: cut documents into passages a patient can read at a glance.

A passage is a paragraph, or a list together with the paragraph that leads into it. It never
crosses a heading and never ends mid-sentence; a long paragraph is split at sentence
boundaries with one sentence of overlap so no chunk loses its context. The text is always the
document's own words.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator

from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

from .documents import Block, Document

MAX_WORDS = 120  # above this a passage is no longer "at a glance"
TARGET_WORDS = 80  # size of the chunks a long paragraph is cut into
MAX_LEAD_IN_WORDS = 60  # a longer paragraph stands alone rather than heading a list
BULLET = "• "

# Sections that list sources rather than answer questions; quoting a citation as an answer
# would mislead, so they are not indexed.
UNINDEXED_SECTIONS = frozenset({"references", "reference", "sources", "bibliography", "citations", "further reading"})

# Punkt normally learns abbreviations from a data package we cannot download; these are the
# ones patient leaflets use, so "Dr. Teitelbaum" never ends a sentence.
ABBREVIATIONS = frozenset(
    "dr mr mrs ms prof st vs etc e.g i.e approx fig no dept u.s u.k jr sr inc ltd co min max mg ml "
    "mt ave est al".split()
)


@dataclass(frozen=True)
class Passage:
    document: str
    title: str
    publisher: str
    url: str
    caveat: str
    section: str
    text: str
    questions: tuple[str, ...] = ()  # written by content staff: what this passage answers


def make_passages(documents: Iterable[Document]) -> list[Passage]:
    splitter = SentenceSplitter()
    return [passage for document in documents for passage in document_passages(document, splitter)]


def document_passages(document: Document, splitter: "SentenceSplitter") -> Iterator[Passage]:
    def passage(section: str, text: str, questions: tuple[str, ...]) -> Passage:
        return Passage(document.id, document.title, document.publisher, document.url, document.caveat, section, text,
                       questions)

    blocks = [b for b in document.blocks if b.section.strip().lower() not in UNINDEXED_SECTIONS]
    for i, block in enumerate(blocks):
        following = blocks[i + 1] if i + 1 < len(blocks) else None
        if not block.is_list:
            if following is not None and is_lead_in(block, following):
                continue  # emitted together with its list
            for chunk in splitter.chunks(block.paragraph):
                yield passage(block.section, chunk, block.questions)
            continue
        previous = blocks[i - 1] if i > 0 else None
        led = previous is not None and is_lead_in(previous, block)
        lead_in = previous.paragraph if led else ""
        questions = (previous.questions if led else ()) + block.questions
        for items in list_chunks(block.items, budget=MAX_WORDS - word_count(lead_in)):
            lines = ([lead_in] if lead_in else []) + [BULLET + item for item in items]
            yield passage(block.section, "\n".join(lines), questions)


def is_lead_in(block: Block, following: Block) -> bool:
    return (
        not block.is_list
        and following.is_list
        and block.section == following.section
        and word_count(block.paragraph) <= MAX_LEAD_IN_WORDS
    )


def list_chunks(items: tuple[str, ...], budget: int) -> Iterator[tuple[str, ...]]:
    """Consecutive runs of whole items, each within `budget` words (an item is never cut)."""
    budget = max(budget, 1)
    run: list[str] = []
    used = 0
    for item in items:
        words = word_count(item)
        if run and used + words > budget:
            yield tuple(run)
            run, used = [], 0
        run.append(item)
        used += words
    if run:
        yield tuple(run)


def word_count(text: str) -> int:
    return len(text.split())


class SentenceSplitter:
    def __init__(self) -> None:
        params = PunktParameters()
        params.abbrev_types = set(ABBREVIATIONS)
        self._punkt = PunktSentenceTokenizer(params)

    def sentences(self, text: str) -> list[str]:
        return self._punkt.tokenize(text)

    def chunks(self, paragraph: str) -> list[str]:
        """The paragraph itself if short, else runs of whole sentences sharing one sentence."""
        if word_count(paragraph) <= MAX_WORDS:
            return [paragraph]
        sentences = self.sentences(paragraph)
        if len(sentences) < 2:
            return [paragraph]  # one very long sentence: never cut it
        chunks: list[str] = []
        start = 0
        while start < len(sentences):
            end, words = start, 0
            while end < len(sentences) and (end == start or words + word_count(sentences[end]) <= TARGET_WORDS):
                words += word_count(sentences[end])
                end += 1
            chunks.append(" ".join(sentences[start:end]))
            if end >= len(sentences):
                break
            start = end - 1 if end - 1 > start else end  # one sentence of overlap
        return chunks
