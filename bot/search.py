"""Stage 5: answer a question with the best passages, or honestly with none.

The Searcher ties analysis and index together and decides when to abstain: the best passage
must cover enough of what the question is about (weighted by idf), otherwise the corpus does
not answer it and we say so instead of offering the least-bad passage.
"""
from __future__ import annotations

import hashlib
import logging
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Sequence

from .analysis import Analyzer, SpellingCorrector, tokenize
from .config import Settings
from .documents import document_paths, load_corpus
from .index import FORMAT_VERSION, FieldWeights, Index, passage_terms
from .passages import Passage, make_passages

log = logging.getLogger(__name__)

MAX_PASSAGES = 3
# Calibrated on tests/data/questions.jsonl (see README "Tuning"): below this share of the
# question's weight matched by the best passage, the corpus does not answer the question.
MIN_COVERAGE = 0.5
# A second or third passage must score at least this share of the best one to be shown.
RELATIVE_SCORE = 0.5
IDF_FLOOR = 0.01
# How much a section cue ("symptoms", "how is it diagnosed") counts next to a content word.
CUE_WEIGHT = 1.5


@dataclass(frozen=True)
class Query:
    """Weighted terms; `content` are those an answer must cover (cues only steer)."""

    terms: tuple[tuple[str, float], ...]
    content: tuple[tuple[str, float], ...]
    corrections: tuple[tuple[str, str], ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.content

    def plus(self, other: "Query", weight: float) -> "Query":
        """This query with `other`'s content terms added at `weight` (for follow-ups)."""
        mine = {t for t, _ in self.content}
        extra = tuple((t, w * weight) for t, w in other.content if t not in mine)
        return Query(self.terms + extra, self.content + extra, self.corrections)


@dataclass(frozen=True)
class Hit:
    id: int
    passage: Passage
    score: float
    coverage: float


@dataclass
class Searcher:
    index: Index
    analyzer: Analyzer
    corrector: SpellingCorrector
    fingerprint: str
    weights: FieldWeights = field(default_factory=FieldWeights)
    cue_weight: float = CUE_WEIGHT

    @property
    def passages(self) -> Sequence[Passage]:
        return self.index.passages

    @cached_property
    def document_count(self) -> int:
        return len({p.document for p in self.passages})

    def parse(self, text: str) -> Query:
        tokens, changes = self.corrector.correct_tokens(tokenize(text))
        content = tuple((t, 1.0) for t in self.analyzer.terms_from_tokens(tokens))
        cues = tuple((t, self.cue_weight) for t in self.analyzer.cue_terms(tokens))
        return Query(content + cues, content, tuple(changes.items()))

    def search(self, query: Query, k: int = MAX_PASSAGES, exclude: frozenset[int] = frozenset()) -> list[Hit]:
        """Up to k answering passages, best first; [] when nothing in the corpus answers."""
        if query.is_empty:
            return []
        ranked = self.index.top(query.terms, k, exclude)
        hits = [Hit(r.passage, self.passages[r.passage], r.score, self.coverage(query, r.passage)) for r in ranked]
        if not hits or hits[0].coverage < MIN_COVERAGE:
            return []
        best = hits[0].score
        return [h for h in hits if h is hits[0] or (h.score >= RELATIVE_SCORE * best and h.coverage >= MIN_COVERAGE)]

    def coverage(self, query: Query, passage: int) -> float:
        total = matched = 0.0
        for term, weight in query.content:
            # In a corpus of one or two passages rank-bm25's idf can be negative for every
            # term; the floor then makes coverage a plain share of terms instead of 0/0.
            mass = weight * max(self.index.term_idf(term), IDF_FLOOR)
            total += mass
            if self.index.contains(term, passage):
                matched += mass
        return matched / total if total else 0.0


# -- building ----------------------------------------------------------------------------------
def fingerprint(settings: Settings, weights: FieldWeights) -> str:
    """Changes whenever anything the index is built from changes."""
    digest = hashlib.sha256(f"format={FORMAT_VERSION};weights={weights}".encode())
    files = document_paths(settings.corpus_dir)
    synonyms = settings.resolved_synonyms_file
    data_dir = Path(__file__).resolve().parent / "data"
    for path in [*files, *([synonyms] if synonyms else []), *sorted(data_dir.glob("*.txt"))]:
        try:
            content = path.read_bytes()
        except OSError:
            content = b"unreadable"  # loading reports it, with the file's name
        digest.update(path.name.encode() + b"\0" + content + b"\0")
    return digest.hexdigest()[:16]


def word_counts(passages: Sequence[Passage]) -> Counter[str]:
    counts: Counter[str] = Counter()
    seen_headings: set[str] = set()  # titles and section headings, counted once each
    for p in passages:
        counts.update(tokenize(p.text))
        for heading in (p.section, p.title):
            if heading not in seen_headings:
                counts.update(tokenize(heading))
                seen_headings.add(heading)
    return counts


def build_searcher(settings: Settings, weights: FieldWeights | None = None) -> Searcher:
    """Load the corpus and index it, or reuse the cached index when nothing changed.

    Raises CorpusError (every bad file) or SynonymsError; never returns a half-loaded corpus.
    """
    weights = weights or FieldWeights()
    analyzer = Analyzer.from_files(settings.resolved_synonyms_file)
    if not settings.corpus_dir.is_dir():
        load_corpus(settings.corpus_dir)  # raises the clear "not found" error
    key = fingerprint(settings, weights)
    cache = settings.index_cache_dir
    loaded = Index.load(cache, key) if cache else None
    if loaded is not None:
        index, extra = loaded
        counts = Counter(extra["word_counts"])
        log.info("loaded cached index %s (%d passages)", key, len(index.passages))
    else:
        passages = make_passages(load_corpus(settings.corpus_dir))
        index = Index.build(passages, [passage_terms(p, analyzer, weights) for p in passages])
        counts = word_counts(passages)
        if cache:
            index.save(cache, key, {"word_counts": counts})
            log.info("saved index %s to %s", key, cache)
    corrector = SpellingCorrector(counts, protected=analyzer.stop_words | analyzer.synonym_words, stem=analyzer.stem)
    return Searcher(index, analyzer, corrector, key, weights)
