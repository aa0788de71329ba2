"""The postings index returns exactly rank-bm25's BM25Okapi ranking, and saves safely."""
from __future__ import annotations

import random

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from bot.index import CacheProblem, Index

# A realistic shape: a Zipf-like vocabulary plus two words in most passages, so the epsilon
# floor rank-bm25 applies to very common words is exercised too.
WORDS = [f"w{i}" for i in range(300)]
COMMON = ["ivig", "patient"]


def random_corpus(seed: int, size: int) -> list[list[str]]:
    rng = random.Random(seed)
    weights = [1 / (rank + 1) for rank in range(len(WORDS))]
    return [COMMON[: rng.randint(1, 2)] + rng.choices(WORDS, weights, k=rng.randint(3, 30)) for _ in range(size)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_top_ten_equals_bm25okapi(seed):
    corpus = random_corpus(seed, 400)
    reference = BM25Okapi(corpus)
    index = Index.build([None] * len(corpus), corpus)
    rng = random.Random(seed)
    for _ in range(30):
        query = [rng.choice(WORDS + COMMON) for _ in range(rng.randint(1, 4))] + ["unknownword"]
        expected = reference.get_scores(query)
        got = index.top([(t, 1.0) for t in query], 10)
        # Passages sharing no term score 0 in BM25Okapi too; they are never answers.
        best = sorted((s for s in expected if s > 0), reverse=True)[:10]
        assert [round(r.score, 9) for r in got] == [round(s, 9) for s in best]
        for r in got:
            assert r.score == pytest.approx(expected[r.passage])


def test_real_corpus_scores_equal_bm25okapi(searcher):
    from bot.index import passage_terms
    terms = [passage_terms(p, searcher.analyzer, searcher.weights) for p in searcher.passages]
    reference = BM25Okapi(terms)
    for question in ["what are IVIG headaches like", "how much does it cost", "does it help fibromyalgia"]:
        query = [(t, 1.0) for t, _ in searcher.parse(question).content]
        expected = reference.get_scores([t for t, _ in query])
        got = {r.passage: r.score for r in searcher.index.top(query, len(terms))}
        for passage, score in enumerate(expected):
            assert got.get(passage, 0.0) == pytest.approx(score)


def test_only_passages_sharing_a_term_are_scored():
    index = Index.build([None] * 3, [["fever"], ["rash"], ["fever", "rash"]])
    candidates, _ = index.scores([("fever", 1.0)])
    assert candidates.tolist() == [0, 2]


def test_excluded_passages_are_skipped():
    index = Index.build([None] * 5, [["fever"], ["fever", "x"], ["fever", "y", "z"], ["a"], ["b"]])
    assert [r.passage for r in index.top([("fever", 1.0)], 3, exclude=frozenset({0}))] == [1, 2]


def test_save_and_load_round_trip_without_pickle(tmp_path, searcher):
    searcher.index.save(tmp_path, "abc", {"word_counts": {"fever": 2}})
    loaded, extra = Index.load(tmp_path, "abc")
    assert extra == {"word_counts": {"fever": 2}}
    assert loaded.passages == list(searcher.passages)
    query = searcher.parse("ivig headaches").terms
    assert loaded.top(query, 3) == searcher.index.top(query, 3)
    with np.load(tmp_path / "index.npz", allow_pickle=False) as data:  # plain arrays only
        assert {a.dtype.kind for a in data.values()} <= {"U", "f", "i"}


def test_stale_or_damaged_saved_index_is_ignored(tmp_path, searcher):
    searcher.index.save(tmp_path, "abc", {})
    assert Index.load(tmp_path, "other-corpus") is None
    fresh_arrays = (tmp_path / "index.npz").read_bytes()
    searcher.index.save(tmp_path, "def", {})
    (tmp_path / "index.npz").write_bytes(fresh_arrays)  # a reader caught between the two renames
    assert Index.load(tmp_path, "def") is None
    (tmp_path / "index.npz").write_bytes(b"garbage")
    with pytest.raises(CacheProblem):
        Index.load(tmp_path, "def")


# One slot each: the index, and what start-up derives from it (bot/cache.py). The English
# dictionary is loaded once per test session, so it is not among them here.
CACHE_FILES = ["corpus-spelling.marshal", "embeddings.npz", "generic-words.marshal", "index.npz", "passages.json"]


def test_cached_index_is_reused_and_rebuilt_when_the_corpus_changes(tmp_path, make_corpus, settings, build):
    from conftest import document
    corpus = make_corpus({"a.md": document("a", "Bring a book to your infusion."), "b.md": document("b", "Parking is free.")})
    cached = settings.with_overrides(corpus_dir=corpus, index_cache_dir=tmp_path / "cache")
    first = build(cached)
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == CACHE_FILES
    again = build(cached)
    assert again.fingerprint == first.fingerprint and list(again.passages) == list(first.passages)
    (corpus / "a.md").write_text(document("a", "Bring a blanket to your infusion."), encoding="utf-8")
    changed = build(cached)
    assert changed.fingerprint != first.fingerprint
    assert changed.passages[0].text == "Bring a blanket to your infusion."
    # The new index replaced the old one: corpus edits do not pile up old indexes on disk.
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == CACHE_FILES
