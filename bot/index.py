"""Stage 4: the BM25 index.

rank-bm25's BM25Okapi computes the statistics (idf with its epsilon floor, document lengths,
average length); we then store each term's contribution per passage as postings, so a query
only touches passages that share a term with it. With every query weight 1.0 the scores equal
BM25Okapi.get_scores on the same terms (tests/test_index.py compares them).
"""
from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from rank_bm25 import BM25Okapi

from .analysis import Analyzer
from .passages import Passage

FORMAT_VERSION = 3


@dataclass(frozen=True)
class FieldWeights:
    """How many times a passage's title and section heading count next to its own words."""

    title: int = 6
    section: int = 3


def passage_terms(passage: Passage, analyzer: Analyzer, weights: FieldWeights) -> list[str]:
    """What the index sees of a passage: its words, plus its title and heading, weighted."""
    terms = analyzer.terms(passage.text)
    terms += analyzer.terms(passage.title) * weights.title
    if passage.section != passage.title:
        terms += analyzer.terms(passage.section) * weights.section
    terms += analyzer.heading_terms(passage.section)
    terms += analyzer.terms(" ".join(passage.questions))
    return terms


@dataclass(frozen=True)
class Ranked:
    passage: int
    score: float


class Index:
    def __init__(self, passages: Sequence[Passage], terms: Sequence[str], idf: np.ndarray,
                 offsets: np.ndarray, postings: np.ndarray, weights: np.ndarray) -> None:
        self.passages = passages
        self.term_ids = {term: i for i, term in enumerate(terms)}
        self.terms = terms
        self.idf = idf
        self.offsets = offsets
        self.postings = postings
        self.weights = weights
        self.max_idf = float(idf.max()) if len(idf) else 0.0

    # -- building --------------------------------------------------------------------------
    @classmethod
    def build(cls, passages: Sequence[Passage], passage_term_lists: Sequence[list[str]],
              k1: float = 1.5, b: float = 0.75, epsilon: float = 0.25) -> "Index":
        bm25 = BM25Okapi(passage_term_lists, k1=k1, b=b, epsilon=epsilon)
        terms = sorted(bm25.idf)
        term_id = {t: i for i, t in enumerate(terms)}
        rows, docs, freqs = [], [], []
        for doc, counts in enumerate(bm25.doc_freqs):
            for term, tf in counts.items():
                rows.append(term_id[term])
                docs.append(doc)
                freqs.append(tf)
        rows_a = np.asarray(rows, dtype=np.int64)
        docs_a = np.asarray(docs, dtype=np.int32)
        tf_a = np.asarray(freqs, dtype=np.int64)
        idf = np.asarray([bm25.idf[t] for t in terms], dtype=np.float64)
        doc_len = np.asarray(bm25.doc_len)
        # The same expression, in the same order, as BM25Okapi.get_scores.
        weights = idf[rows_a] * (tf_a * (k1 + 1) / (tf_a + k1 * (1 - b + b * doc_len[docs_a] / bm25.avgdl)))
        order = np.lexsort((docs_a, rows_a))  # by term, then by passage
        offsets = np.zeros(len(terms) + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows_a, minlength=len(terms)), out=offsets[1:])
        return cls(passages, terms, idf, offsets, docs_a[order], weights[order])

    # -- querying --------------------------------------------------------------------------
    def posting(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        i = self.term_ids.get(term)
        if i is None:
            return self.postings[:0], self.weights[:0]
        start, end = self.offsets[i], self.offsets[i + 1]
        return self.postings[start:end], self.weights[start:end]

    def scores(self, query: Sequence[tuple[str, float]]) -> tuple[np.ndarray, np.ndarray]:
        """(passages, scores) for every passage sharing a term with the weighted query."""
        parts = [(self.posting(term), weight) for term, weight in query]
        parts = [(p, w) for p, w in parts if len(p[0])]
        if not parts:
            return np.empty(0, dtype=np.int32), np.empty(0)
        docs = np.concatenate([p[0] for p, _ in parts])
        contributions = np.concatenate([p[1] * w if w != 1.0 else p[1] for p, w in parts])
        # Sums into one slot per passage: linear in the postings, where np.unique would sort them
        # (that sort was half of a MedQuAD query's time).
        n = len(self.passages)
        present = np.zeros(n, dtype=bool)
        present[docs] = True
        candidates = np.flatnonzero(present).astype(docs.dtype, copy=False)
        return candidates, np.bincount(docs, weights=contributions, minlength=n)[candidates]

    def top(self, query: Sequence[tuple[str, float]], k: int, exclude: frozenset[int] = frozenset()) -> list[Ranked]:
        """The k best passages, best first; ties go to the earlier passage."""
        candidates, scores = self.scores(query)
        if exclude:
            keep = ~np.isin(candidates, np.fromiter(exclude, dtype=np.int64, count=len(exclude)))
            candidates, scores = candidates[keep], scores[keep]
        if len(candidates) > k:
            cut = np.argpartition(-scores, k - 1)[:k]
            threshold = scores[cut].min()
            chosen = np.flatnonzero(scores >= threshold)  # keep every tie at the boundary
            candidates, scores = candidates[chosen], scores[chosen]
        order = np.lexsort((candidates, -scores))[:k]
        return [Ranked(int(candidates[i]), float(scores[i])) for i in order]

    def contains(self, term: str, passage: int) -> bool:
        docs, _ = self.posting(term)
        at = int(np.searchsorted(docs, passage))
        return at < len(docs) and int(docs[at]) == passage

    def term_idf(self, term: str) -> float:
        i = self.term_ids.get(term)
        return float(self.idf[i]) if i is not None else self.max_idf

    # -- saving (plain arrays and JSON: nothing is unpickled on load) -----------------------
    def save(self, directory: Path, fingerprint: str, extra: dict) -> None:
        """Save into `directory`, replacing what was there (one index per cache directory).

        Both files carry the fingerprint, so a reader that catches them between the two
        renames sees a mismatch and rebuilds instead of pairing old passages with new arrays.
        """
        directory.mkdir(parents=True, exist_ok=True)
        arrays = tempfile.NamedTemporaryFile(dir=directory, suffix=".npz.tmp", delete=False)
        with arrays:
            np.savez(arrays, fingerprint=np.asarray(fingerprint), terms=np.asarray(self.terms, dtype=str),
                     idf=self.idf, offsets=self.offsets, postings=self.postings, weights=self.weights)
        meta = tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=directory, suffix=".json.tmp", delete=False)
        with meta:
            json.dump({"format": FORMAT_VERSION, "fingerprint": fingerprint, "extra": extra,
                       **passage_columns(self.passages)}, meta)
        Path(arrays.name).replace(directory / "index.npz")
        Path(meta.name).replace(directory / "passages.json")

    @classmethod
    def load(cls, directory: Path, fingerprint: str) -> "tuple[Index, dict] | None":
        """The saved index and its extra data if built from the same corpus and settings, else None.

        A cache is only ever a shortcut: a missing, stale, truncated, bit-flipped, foreign or
        hand-edited one is reported by `CacheProblem` and rebuilt, never trusted half-way.
        """
        remove_leftovers(directory)
        if not (directory / "passages.json").exists() and not (directory / "index.npz").exists():
            return None
        try:
            meta = json.loads((directory / "passages.json").read_text(encoding="utf-8"))
            if not isinstance(meta, dict) or not {"format", "fingerprint"} <= meta.keys():
                raise ValueError("not an index cache")  # foreign or hand-made: say so, unlike a stale one
            if meta["format"] != FORMAT_VERSION or meta["fingerprint"] != fingerprint:
                return None
            with np.load(directory / "index.npz", allow_pickle=False) as data:
                if str(data["fingerprint"]) != fingerprint:
                    return None
                arrays = {name: data[name] for name in ("terms", "idf", "offsets", "postings", "weights")}
            passages = passages_from_columns(meta["documents"], meta["passages"])
            extra = dict(meta["extra"])
            index = cls(passages, arrays["terms"].tolist(), arrays["idf"], arrays["offsets"], arrays["postings"],
                        arrays["weights"])
            check_consistent(index)
        except Exception as error:  # noqa: BLE001 - zip, zlib, JSON, shape, type: all mean "rebuild"
            raise CacheProblem(f"the index cache in {directory} is damaged ({type(error).__name__}); rebuilding it") from None
        return index, extra


class CacheProblem(Exception):
    """The cache exists but cannot be used; the caller rebuilds it and says so once."""


def check_consistent(index: Index) -> None:
    """Everything a query will index into must be in range, or the cache is not this index."""
    n_terms, n_postings = len(index.terms), len(index.postings)
    ok = (
        index.idf.shape == (n_terms,) and index.offsets.shape == (n_terms + 1,)
        and index.weights.shape == (n_postings,) and index.offsets[0] == 0 and index.offsets[-1] == n_postings
        and bool(np.all(np.diff(index.offsets) >= 0))
        and (n_postings == 0 or (int(index.postings.min()) >= 0 and int(index.postings.max()) < len(index.passages)))
        and bool(np.all(np.isfinite(index.weights))) and bool(np.all(np.isfinite(index.idf)))
        and all(isinstance(t, str) for t in index.terms)
    )
    if not ok:
        raise ValueError("inconsistent arrays")


# Passages are saved by column, with what belongs to the whole document (title, publisher...)
# once per document: a library's cache is then a third smaller and loads several times faster.
DOCUMENT_FIELDS = ("document", "title", "publisher", "url", "caveat")


def passage_columns(passages: Sequence[Passage]) -> dict:
    documents: dict[tuple[str, ...], int] = {}
    of = [documents.setdefault(tuple(getattr(p, f) for f in DOCUMENT_FIELDS), len(documents)) for p in passages]
    return {"documents": [list(d) for d in documents],
            "passages": {"document": of, "section": [p.section for p in passages], "text": [p.text for p in passages],
                         "questions": [list(p.questions) for p in passages]}}


def passages_from_columns(documents: list, columns: dict) -> list[Passage]:
    """The passages saved by `passage_columns`; ValueError if anything is not as saved."""
    of, sections, texts, questions = (columns[k] for k in ("document", "section", "text", "questions"))
    ok = (
        all(type(d) is list and len(d) == len(DOCUMENT_FIELDS) and all(type(v) is str for v in d) for d in documents)
        and len(of) == len(sections) == len(texts) == len(questions)
        and all(type(i) is int and 0 <= i < len(documents) for i in of)
        and all(type(v) is str for v in sections) and all(type(v) is str for v in texts)
        and all(type(q) is list and all(type(v) is str for v in q) for q in questions)
    )
    if not ok:
        raise ValueError("inconsistent passages")
    return [Passage(*documents[d], section, text, tuple(q)) for d, section, text, q in zip(of, sections, texts, questions)]


def remove_leftovers(directory: Path, older_than: float = 300.0) -> None:
    """Temporary files from a save that was killed half-way (old ones only: a replica starting
    at the same moment may be writing its own)."""
    now = time.time()
    for leftover in directory.glob("*.tmp"):
        try:
            if now - leftover.stat().st_mtime > older_than:
                leftover.unlink()
        except OSError:
            pass
