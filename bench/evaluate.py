"""Answer quality at the section level: hit@1, hit@3 and MRR@10, side by side with the alternatives.

Systems, all over the same passages:
  ivig-bot       this project's analysis, field weights and section cues (postings scorer)
  rank-bm25      BM25Okapi over naive lower-cased word tokens, title and heading prefixed
  bm25s          bm25s with its English stop words and PyStemmer, title and heading prefixed

A passage is a hit when its (document, section heading) is one of the question's relevant pairs.
Usage:  .venv/bin/python bench/evaluate.py [--split dev|test] [--limit N] [--systems a,b]
MedQuAD: Ben Abacha & Demner-Fushman, BMC Bioinformatics 20:511 (2019), CC BY 4.0.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import Settings  # noqa: E402
from bot.passages import Passage  # noqa: E402
from bot.search import Searcher, build_searcher  # noqa: E402

MEDQUAD = ROOT.parent / "shared" / "bench" / "medquad"
K = 10


def medquad_questions(split: str) -> list[dict]:
    lines = (MEDQUAD / f"questions-{split}.jsonl").read_text(encoding="utf-8").splitlines()
    return [{"question": q["question"], "relevant": {(r["document"], r["section"]) for r in q["relevant"]}}
            for q in map(json.loads, lines)]


def project_questions(searcher: Searcher) -> list[dict]:
    """tests/data/questions.jsonl as section-level cases (in-scope questions only)."""
    cases = []
    for line in (ROOT / "tests" / "data" / "questions.jsonl").read_text(encoding="utf-8").splitlines():
        q = json.loads(line)
        if q.get("out_of_scope"):
            continue
        relevant = {(p.document, p.section) for p in searcher.passages if p.document == q["document"] and q["passage"] in p.text}
        cases.append({"question": q["question"], "relevant": relevant})
    return cases


Ranker = Callable[[str], Sequence[int]]


def ours(searcher: Searcher) -> Ranker:
    # Ranking quality only: the top 10 before abstention, as the alternatives are measured.
    return lambda q: [r.passage for r in searcher.index.top(searcher.parse(q).terms, K)]


def naive_tokens(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def prefixed(p: Passage) -> str:
    return f"{p.title} {p.section} {p.text}"


def rank_bm25_naive(passages: Sequence[Passage]) -> Ranker:
    import numpy as np
    from rank_bm25 import BM25Okapi
    bm25 = BM25Okapi([naive_tokens(prefixed(p)) for p in passages])
    return lambda q: list(np.argsort(-bm25.get_scores(naive_tokens(q)), kind="stable")[:K])


def bm25s_stemmed(passages: Sequence[Passage]) -> Ranker:
    import bm25s
    import Stemmer
    stemmer = Stemmer.Stemmer("english")
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize([prefixed(p) for p in passages], stopwords="en", stemmer=stemmer, show_progress=False),
                    show_progress=False)

    def rank(q: str) -> list[int]:
        tokens = bm25s.tokenize([q], stopwords="en", stemmer=stemmer, show_progress=False)
        if not tokens.vocab:
            return []
        docs, _ = retriever.retrieve(tokens, k=K, show_progress=False)
        return [int(d) for d in docs[0]]
    return rank


def score(ranker: Ranker, passages: Sequence[Passage], cases: list[dict]) -> dict[str, float]:
    hit1 = hit3 = mrr = 0.0
    started = time.perf_counter()
    for case in cases:
        ranked = [(passages[i].document, passages[i].section) for i in ranker(case["question"])]
        first = next((rank for rank, pair in enumerate(ranked, 1) if pair in case["relevant"]), None)
        if first is not None:
            hit1 += first == 1
            hit3 += first <= 3
            mrr += 1 / first
    n = len(cases) or 1
    return {"hit@1": hit1 / n, "hit@3": hit3 / n, "mrr@10": mrr / n, "questions": len(cases),
            "ms_per_query": (time.perf_counter() - started) * 1000 / n}


def as_served(searcher: Searcher, cases: list[dict]) -> dict[str, float]:
    """What a patient would see: the passages after abstention, not the raw ranking."""
    answered = hit1 = 0
    for case in cases:
        hits = searcher.search(searcher.parse(case["question"]))
        answered += bool(hits)
        hit1 += bool(hits) and (hits[0].passage.document, hits[0].passage.section) in case["relevant"]
    n = len(cases) or 1
    return {"answered": answered / n, "hit@1": hit1 / n}


SYSTEMS = {"ivig-bot": None, "rank-bm25": rank_bm25_naive, "bm25s": bm25s_stemmed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", choices=["dev", "test"], default="test")
    parser.add_argument("--limit", type=int, default=0, help="only the first N MedQuAD questions")
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    args = parser.parse_args()
    names = args.systems.split(",")

    rows = []
    for label, settings in [("project questions, built-in corpus", Settings()),
                            (f"MedQuAD {args.split}", Settings(corpus_dir=MEDQUAD / "corpus", synonyms_file=ROOT / "corpus" / "synonyms.txt"))]:
        searcher = build_searcher(settings)
        passages = searcher.passages
        cases = project_questions(searcher) if label.startswith("project") else medquad_questions(args.split)
        if args.limit and not label.startswith("project"):
            cases = cases[: args.limit]
        for name in names:
            ranker = ours(searcher) if name == "ivig-bot" else SYSTEMS[name](passages)
            result = score(ranker, passages, cases)
            rows.append((label, name, result))
            print(f"{label:38} {name:10} hit@1 {result['hit@1']:.3f}  hit@3 {result['hit@3']:.3f}  "
                  f"MRR@10 {result['mrr@10']:.3f}  n={result['questions']}  {result['ms_per_query']:.2f} ms/query", flush=True)
            if name == "ivig-bot":
                served = as_served(searcher, cases)
                print(f"{label:38} {'  as served':10} answered {served['answered']:.3f}  "
                      f"hit@1 {served['hit@1']:.3f} (abstentions count as misses)", flush=True)


if __name__ == "__main__":
    main()
