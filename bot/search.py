"""Stage 6: answer a question with the best passages, or honestly with none.

Ranking fuses BM25 (rank-bm25's statistics, through postings) with the offline semantic
signal. Abstention asks the right question: does the best passage cover what the question is
*about*? Filler, greetings and common words that name no topic ("is that normal", "quick
question") do not count against an answer; a topic word the corpus does not know ("insurance",
"rituximab") does, because a passage that ignores it does not answer.
"""
from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np

from .analysis import Analyzer, read_word_list, read_yaml, tokenize, words
from .cache import Cache
from .config import Settings, SettingsError
from .documents import document_paths, load_corpus
from .files import read_limited
from .index import FORMAT_VERSION, CacheProblem, FieldWeights, Index, passage_terms
from .learning import StemClassifier
from .passages import Passage, make_passages
from .phrases import PhraseMatcher
from .understanding import Message, Models, Understander

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent / "data"
ANSWER_MODEL = DATA_DIR / "answer_model.json"
ANSWER_TYPES = DATA_DIR / "answer_types.yaml"
OUT_OF_SCOPE = DATA_DIR / "out_of_scope.jsonl"
IN_SCOPE = "in"
SCOPE_C = 16.0
MAX_PASSAGES = 3
# Tuned on the tune half of tests/data/eval/questions.*.jsonl (see BENCHMARKS.md).
MIN_COVERAGE = 0.5  # share of the question's topic (idf-weighted) a 2nd or 3rd passage must also cover
SEMANTIC_WEIGHT = 0.1  # how much meaning counts next to BM25 (scaled to the best BM25 score)
QUESTION_WEIGHT = 2.0  # how much closeness to a passage's example questions counts
MATCHER_WEIGHT = 3.0  # how much the learned question matcher's probability counts (tune CV, BENCHMARKS.md)
MATCHER_C = 16.0
RELATIVE_SCORE = 0.5  # a 2nd or 3rd passage must score at least this share of the best one
# English words this common name no topic unless listed in focus_words.txt: a question's word
# the corpus lacks is ignored if it is among the GENERIC_RANK commonest; one the corpus has
# counts only GENERIC_WEIGHT if it is among the COMMON_RANK commonest ("people", "feel").
GENERIC_RANK = 5_000
COMMON_RANK = 3_000
GENERIC_WEIGHT = 0.3
CANDIDATES = 100  # BM25 candidates re-ranked by meaning; small corpora are scored whole
SCORE_ALL_BELOW = 2_000
IDF_FLOOR = 0.01
CUE_WEIGHT = 1.5  # a section cue ("symptoms", "how is it diagnosed") next to a content word


@dataclass(frozen=True)
class Query:
    """Weighted terms; `content` are those an answer must cover (cues only steer)."""

    terms: tuple[tuple[str, float], ...]
    content: tuple[tuple[str, float], ...]
    corrections: tuple[tuple[str, str], ...] = ()
    vector: np.ndarray | None = field(default=None, compare=False, repr=False)
    stems: tuple[str, ...] = ()  # the whole message's stems, for the learned question matcher
    asks: frozenset[str] = frozenset()  # kinds of answer asked for: "number", "year" (answer_types.yaml)

    @property
    def is_empty(self) -> bool:
        return not self.content

    def plus(self, other: "Query", weight: float) -> "Query":
        """This query with `other`'s content terms added at `weight` (for follow-ups). A follow-up
        asks for what its own words ask for ("and how many?"), not what the topic's question did."""
        mine = {t for t, _ in self.content}
        extra = tuple((t, w * weight) for t, w in other.content if t not in mine)
        return Query(self.terms + extra, self.content + extra, self.corrections, self.vector, self.stems + other.stems,
                     self.asks)


@dataclass(frozen=True)
class Hit:
    id: int
    passage: Passage
    score: float
    coverage: float
    asked: float = 0.0  # closeness to the nearest question the passage was written to answer
    meaning: float = 0.0  # closeness to the passage itself
    # The score without the learned matcher, whose probabilities pick one passage and say nothing
    # of the others: a 2nd or 3rd passage is compared with the best on this.
    unmatched: float = 0.0


class AnswerTypesError(ValueError):
    """answer_types.yaml is not usable; the message says why."""


class AnswerTypes:
    """Questions that ask for a number or a year, and whether a passage holds one
    (bot/data/answer_types.yaml)."""

    def __init__(self, asks: PhraseMatcher, numbers: frozenset[str]) -> None:
        self._asks = asks
        self._numbers = numbers

    @classmethod
    def load(cls, path: Path, understander: Understander) -> "AnswerTypes":
        data = read_yaml(path, AnswerTypesError)  # a few lines: not worth a slot in the cache
        asks, numbers = (data or {}).get("asks"), (data or {}).get("numbers")
        if (not isinstance(asks, dict) or set(asks) - {"number", "year"} or not isinstance(numbers, list)
                or not all(isinstance(p, list) and all(isinstance(w, str) for w in p) for p in asks.values())
                or not all(isinstance(w, str) for w in numbers)):
            raise AnswerTypesError(f"{path.name}: needs `asks` (number, year: lists of phrases) and `numbers` (a list of words)")
        matcher = PhraseMatcher([(p, kind) for kind, phrases in asks.items() for p in phrases],
                                understander.analyzer.stem, understander.rewrite)
        return cls(matcher, frozenset(w.lower() for w in numbers))

    def asked(self, message: Message) -> frozenset[str]:
        return frozenset(m.label for m in self._asks.find(message.stems, message.words))

    def holds(self, kind: str, text: str) -> bool:
        """Does `text` hold an answer of this kind: a year, or any number?"""
        if kind == "year":  # "1981", "the 1980s"
            return any(w[:4].isdigit() and w[4:] in ("", "s") and 1900 <= int(w[:4]) <= 2099 for w in words(text))
        return any(w[:1].isdigit() or w in self._numbers for w in words(text))


@dataclass(frozen=True)
class AnswerModel:
    """Logistic regression over Searcher.features, read from bot/data/answer_model.json: one
    fitted for corpora whose documents carry example questions, one for those without."""

    weights: Mapping[str, float]
    bias: float
    threshold: float
    fill: Mapping[str, float]  # a feature's value when the query has no meaning vector to read it from

    @classmethod
    def load(cls, path: Path, with_examples: bool) -> "AnswerModel":
        data = json.loads(path.read_text(encoding="utf-8"))["with_examples" if with_examples else "plain"]
        return cls(dict(data["weights"]), float(data["bias"]), float(data["threshold"]),
                   {name: float(value) for name, value in data.get("fill", {}).items()})

    def probability(self, features: Mapping[str, float]) -> float:
        z = self.bias + sum(w * features[name] for name, w in self.weights.items())
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


@dataclass
class Searcher:
    index: Index
    understander: Understander
    vectors: np.ndarray  # one unit vector per passage
    question_vectors: np.ndarray  # one unit vector per example question content staff wrote
    question_owner: np.ndarray  # the passage each example question belongs to
    outside_vectors: np.ndarray  # one unit vector per out-of-scope question (bot/data/out_of_scope.jsonl)
    fingerprint: str
    generic: frozenset[str]  # stems of common English words that name no topic
    common: frozenset[str]  # the commonest of them
    weights: FieldWeights = field(default_factory=FieldWeights)
    cue_weight: float = CUE_WEIGHT
    # Learned from the example questions content staff wrote: which passage each one is for,
    # and (against bot/data/out_of_scope.jsonl) whether a question is one the documents answer.
    matcher: StemClassifier | None = None
    scope: StemClassifier | None = None
    # How this searcher came to be, for metrics: seconds to build or load, and from the cache?
    load_seconds: float = 0.0
    from_cache: bool = False
    answer_types: AnswerTypes | None = None
    answer_model: AnswerModel = field(init=False)

    def __post_init__(self) -> None:
        self.answer_model = AnswerModel.load(ANSWER_MODEL, with_examples=self.scope is not None)

    @property
    def analyzer(self) -> Analyzer:
        return self.understander.analyzer

    @property
    def passages(self) -> Sequence[Passage]:
        return self.index.passages

    @cached_property
    def document_count(self) -> int:
        return len({p.document for p in self.passages})

    def parse(self, message: Message | str) -> Query:
        """The query a message asks. Topic words the corpus lacks count only if they name a topic."""
        if isinstance(message, str):
            message = self.understander.read(message)
        topic = [t for t in message.terms if t in self.index.term_ids or t not in self.generic]
        # Common words rank at full weight (MedQuAD's "symptoms", "treatment" name the section
        # asked for) but count little towards whether the topic is covered.
        content = tuple((t, GENERIC_WEIGHT if t in self.common else 1.0) for t in topic)
        cues = tuple((t, self.cue_weight) for t in message.cues)
        asks = self.answer_types.asked(message) if self.answer_types else frozenset()
        return Query(tuple((t, 1.0) for t in topic) + cues, content, message.corrections, message.vector, message.stems,
                     asks)

    def search(self, query: Query, k: int = MAX_PASSAGES, exclude: frozenset[int] = frozenset()) -> list[Hit]:
        """Up to k answering passages, best first; [] when nothing in the corpus answers."""
        hits = self.rank(query, k + 1, exclude)
        if not hits or self.confidence(query, hits) < self.answer_model.threshold:
            return []
        best = hits[0].unmatched
        return [h for h in hits[:k] if h is hits[0] or (h.unmatched >= RELATIVE_SCORE * best and h.coverage >= MIN_COVERAGE)]

    def rank(self, query: Query, k: int, exclude: frozenset[int] = frozenset()) -> list[Hit]:
        """The k best passages by fused score, whether or not they answer."""
        if query.is_empty:
            return []
        ranked = self.index.top(query.terms, CANDIDATES, exclude)
        bm25 = {r.passage: r.score for r in ranked}
        if len(self.passages) <= SCORE_ALL_BELOW:
            candidates = [i for i in range(len(self.passages)) if i not in exclude]
        else:
            candidates = list(bm25)
        if not candidates:
            return []
        top_bm25 = max(bm25.values(), default=0.0) or 1.0
        meaning = (self.vectors[candidates] @ query.vector if query.vector is not None
                   else np.zeros(len(candidates)))
        asked = self.closest_questions(query)
        matched = self.matched(query)
        unmatched = {c: bm25.get(c, 0.0) / top_bm25 + SEMANTIC_WEIGHT * float(m) + QUESTION_WEIGHT * asked[c]
                     for c, m in zip(candidates, meaning)}
        fused = [(unmatched[c] + MATCHER_WEIGHT * matched[c], c, float(m)) for c, m in zip(candidates, meaning)]
        fused.sort(key=lambda sc: (-sc[0], sc[1]))
        return [Hit(c, self.passages[c], score, self.coverage(query, c), float(asked[c]), m, unmatched[c])
                for score, c, m in fused[:k]]

    def features(self, query: Query, hits: Sequence[Hit]) -> dict[str, float]:
        """What the answer model weighs: how much of the question's topic the best passage covers,
        how close the question is to what that passage was written to answer and to the passage
        itself, how clearly it beats the next one, how close the question is to one known to be
        out of scope, and whether it asks for a number or a year the passage does not hold."""
        best = hits[0]
        total = sum(w * max(self.index.term_idf(t), IDF_FLOOR) for t, w in query.content) or 1.0
        unknown = sum(w * max(self.index.term_idf(t), IDF_FLOOR) for t, w in query.content if t not in self.index.term_ids)
        # How close the question is to one the documents are known not to answer.
        if not len(self.outside_vectors):
            outside = 0.0
        elif query.vector is None:
            outside = self.answer_model.fill.get("outside", 0.0)
        else:
            outside = float((self.outside_vectors @ query.vector).max())
        found = {
            "coverage": best.coverage,
            "asked": best.asked,
            "meaning": best.meaning if query.vector is not None else self.answer_model.fill.get("meaning", 0.0),
            "margin": best.score - hits[1].score if len(hits) > 1 else best.score,
            "unknown": unknown / total,
            "outside": outside,
            # The question asks for a number or a year that the best passage does not hold.
            "no_such_answer": float(self.answer_types is not None and any(
                not self.answer_types.holds(kind, best.passage.text) for kind in query.asks)),
        }
        if self.scope is not None and query.stems:
            found["in_scope"] = float(self.scope.probabilities(query.stems)[self.scope.classes.index(IN_SCOPE)])
        elif self.scope is not None:
            found["in_scope"] = 0.5
        return found

    def confidence(self, query: Query, hits: Sequence[Hit]) -> float:
        """Probability that the best passage answers the question (the answer model, calibrated
        on the tune half of the patient questions; see BENCHMARKS.md)."""
        return self.answer_model.probability(self.features(query, hits))

    def matched(self, query: Query) -> np.ndarray:
        """Per passage, the learned matcher's probability that the question is one it answers."""
        chance = np.zeros(len(self.passages))
        if self.matcher is not None and query.stems:
            chance[[int(c) for c in self.matcher.classes]] = self.matcher.probabilities(query.stems)
        return chance

    def closest_questions(self, query: Query) -> np.ndarray:
        """Per passage, how close the query's meaning is to the nearest question it was written to answer."""
        best = np.zeros(len(self.passages))
        if query.vector is not None and len(self.question_vectors):
            np.maximum.at(best, self.question_owner, self.question_vectors @ query.vector)
        return best

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
            content = read_limited(path, settings.max_document_bytes)
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


def generic_words(analyzer: Analyzer, models: Models, rank: int) -> frozenset[str]:
    """Stems of the `rank` commonest English words, less the listed topic words (focus_words.txt)."""
    focus = {analyzer.stem(w) for w in read_word_list(DATA_DIR / "focus_words.txt")}
    counts = models.english.words
    common = sorted(counts, key=counts.__getitem__, reverse=True)[:rank]
    return frozenset(analyzer.stem(w) for w in common) - focus


def read_out_of_scope(path: Path) -> list[str]:
    """Questions the documents do not answer (other drugs, insurance, logistics...), one JSON
    object with a "question" per line: what the scope classifier learns "no answer" from."""
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            question = json.loads(line)["question"]
            if not isinstance(question, str):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            raise ValueError(f"{path.name}, line {number}: needs a \"question\" text") from None
        questions.append(question)
    return questions


def cached_index(cache: Path, key: str) -> tuple[Index, Counter[str]] | None:
    """The cached index and word counts, or None (with one warning line if the cache was damaged)."""
    try:
        loaded = Index.load(cache, key)
        if loaded is None:
            return None
        index, extra = loaded
        counts = extra.get("word_counts")
        if not isinstance(counts, dict) or not all(isinstance(w, str) and type(n) is int for w, n in counts.items()):
            raise CacheProblem(f"the index cache in {cache} is damaged (word counts); rebuilding it")
    except CacheProblem as problem:
        log.warning("%s", problem)
        return None
    return index, Counter(counts)


def same_question(text: str) -> str:
    """A question as `leave_out` compares it: case and spacing do not count."""
    return " ".join(text.lower().split())


def build_searcher(settings: Settings, models: Models | None = None, weights: FieldWeights | None = None,
                   domain_words: Iterable[str] = (), leave_out: frozenset[str] = frozenset()) -> Searcher:
    """Load the corpus and index it, or reuse the cached index when nothing changed.

    `models` (the English dictionary and the embedding) are loaded once per process and may be
    shared between corpora. `leave_out` (compared by `same_question`) are example and
    out-of-scope questions to learn without: bench/fit_answer_model.py cross-validates with it,
    so nothing is cached then. Raises CorpusError (every bad file) or SynonymsError; never
    returns a half-loaded corpus.
    """
    started = time.perf_counter()
    left_out = {same_question(q) for q in leave_out}
    kept = lambda q: same_question(q) not in left_out  # noqa: E731
    weights = weights or FieldWeights()
    models = models or Models.load(settings.index_cache_dir)
    analyzer = Analyzer.from_files(settings.resolved_synonyms_file, settings.max_document_bytes)
    if not settings.corpus_dir.is_dir():
        load_corpus(settings.corpus_dir)  # raises the clear "not found" error
    key = fingerprint(settings, weights)
    cache = None if leave_out else settings.index_cache_dir
    if cache:
        try:
            cache.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise SettingsError(f"IVIG_BOT_INDEX_CACHE {str(cache)!r} cannot be used ({error.strerror or error})") from None
    loaded = cached_index(cache, key) if cache else None
    if loaded is not None:
        index, counts = loaded
        log.info("loaded cached index %s (%d passages)", key, len(index.passages))
    else:
        passages = [replace(p, questions=tuple(filter(kept, p.questions)))
                    for p in make_passages(load_corpus(settings.corpus_dir, settings.max_document_bytes))]
        index = Index.build(passages, [passage_terms(p, analyzer, weights) for p in passages])
        counts = word_counts(passages)
        if cache:
            try:
                index.save(cache, key, {"word_counts": counts})
                log.info("saved index %s to %s", key, cache)
            except OSError as error:  # a cache is a shortcut: serve without it rather than not at all
                log.warning("cannot save the index cache in %s (%s)", cache, error.strerror or error)
    derived = Cache.for_corpus(cache, key)
    understander = Understander.create(analyzer, counts, models, domain_words, derived)
    owner = np.asarray([i for i, p in enumerate(index.passages) for _ in p.questions], dtype=np.int64)

    questions = [q for p in index.passages for q in p.questions]
    # Out-of-scope questions matter only beside example questions: both feed the answer model.
    outside = list(filter(kept, read_out_of_scope(OUT_OF_SCOPE))) if questions else []
    read = functools.cache(understander.read)  # each text is analysed once, only if a model must be made

    def embed() -> dict[str, np.ndarray]:
        def embed_all(texts: list[str]) -> np.ndarray:
            return models.embedder.embed([" ".join(read(t).words) for t in texts])
        return {"passages": models.embedder.embed([f"{p.title}. {p.section}. {p.text}" for p in index.passages]),
                "questions": embed_all(questions), "outside": embed_all(outside)}

    embedded = derived.arrays("embeddings", embed, lambda a: (
        a["passages"].shape == (len(index.passages), models.embedder.dimensions)
        and a["questions"].shape == (len(owner), models.embedder.dimensions)
        and a["outside"].ndim == 2 and a["outside"].shape[1] == models.embedder.dimensions
        and a["passages"].dtype == a["questions"].dtype == a["outside"].dtype == np.float32))
    vectors, question_vectors, outside_vectors = embedded["passages"], embedded["questions"], embedded["outside"]
    matcher = scope = None
    labels = [str(i) for i, p in enumerate(index.passages) for _ in p.questions]

    def written() -> list[tuple[str, ...]]:
        return [read(q).stems for q in questions]

    if len(set(labels)) >= 2:
        matcher = StemClassifier.from_arrays(derived.arrays(
            "matcher", lambda: StemClassifier.fit(written(), labels, MATCHER_C).arrays(), StemClassifier.valid))
    if labels:
        def fit_scope() -> dict[str, np.ndarray]:
            return StemClassifier.fit(written() + [read(q).stems for q in outside],
                                      [IN_SCOPE] * len(labels) + ["out"] * len(outside), SCOPE_C).arrays()
        scope = StemClassifier.from_arrays(derived.arrays("scope", fit_scope, StemClassifier.valid))
    generic = derived.values("generic-words", lambda: {
        "generic": sorted(generic_words(analyzer, models, GENERIC_RANK)),
        "common": sorted(generic_words(analyzer, models, COMMON_RANK))},
        lambda v: isinstance(v, dict) and all(isinstance(v.get(k), list) for k in ("generic", "common")))
    return Searcher(index, understander, vectors, question_vectors, owner, outside_vectors, key,
                    frozenset(generic["generic"]), frozenset(generic["common"]), weights, matcher=matcher, scope=scope,
                    load_seconds=time.perf_counter() - started, from_cache=loaded is not None,
                    answer_types=AnswerTypes.load(ANSWER_TYPES, understander))
