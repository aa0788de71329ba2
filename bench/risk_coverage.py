"""Risk-coverage on a mixed set: MedQuAD test questions plus questions the library does not answer.

    .venv/bin/python bench/risk_coverage.py [--limit N]

Each system ranks the same MedQuAD passages and gives its first passage a confidence:
  ivig-bot    the answer model's probability that the first passage answers (what it serves by)
  rank-bm25   the first passage's BM25Okapi score (naive lower-cased words, title and heading prefixed)
  bm25s       the first passage's bm25s score (stop words and PyStemmer, title and heading prefixed)

Answering the most confident share of the questions, how many of those answers are right? A
MedQuAD answer is right when its (document, section) is a relevant pair; any answer to an
out-of-scope question (bench/data/medquad_out_of_scope.jsonl, written by an outside writer
who checked each against the corpus) is wrong. Prints precision at each coverage, the area
under the risk-coverage curve (lower is better), ivig-bot's served operating point, and the
out-of-scope questions it answers there, with the passage it shows.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from evaluate import MEDQUAD, medquad_questions, naive_tokens, prefixed  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.passages import Passage  # noqa: E402
from bot.search import Searcher, build_searcher  # noqa: E402

OUT_OF_SCOPE = ROOT / "bench" / "data" / "medquad_out_of_scope.jsonl"
COVERAGES = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)

# A system answers a question with its first passage (None: it found nothing) and a confidence.
Answerer = Callable[[str], tuple[int | None, float]]


def bot(searcher: Searcher) -> Answerer:
    def answer(question: str) -> tuple[int | None, float]:
        query = searcher.parse(question)
        hits = searcher.rank(query, 2)
        return (hits[0].id, searcher.confidence(query, hits)) if hits else (None, 0.0)
    return answer


def rank_bm25(passages: Sequence[Passage]) -> Answerer:
    from rank_bm25 import BM25Okapi
    bm25 = BM25Okapi([naive_tokens(prefixed(p)) for p in passages])

    def answer(question: str) -> tuple[int | None, float]:
        scores = bm25.get_scores(naive_tokens(question))
        best = int(np.argmax(scores))
        return (best, float(scores[best])) if scores[best] > 0 else (None, 0.0)
    return answer


def bm25s_stemmed(passages: Sequence[Passage]) -> Answerer:
    import bm25s
    import Stemmer
    stemmer = Stemmer.Stemmer("english")
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize([prefixed(p) for p in passages], stopwords="en", stemmer=stemmer, show_progress=False),
                    show_progress=False)

    def answer(question: str) -> tuple[int | None, float]:
        tokens = bm25s.tokenize([question], stopwords="en", stemmer=stemmer, show_progress=False)
        if not tokens.vocab:
            return None, 0.0
        docs, scores = retriever.retrieve(tokens, k=1, show_progress=False)
        return (int(docs[0][0]), float(scores[0][0])) if scores[0][0] > 0 else (None, 0.0)
    return answer


def curve(correct: np.ndarray, confidence: np.ndarray) -> tuple[list[float], float]:
    """Precision of the answers given at each coverage, and the area under the risk curve."""
    order = np.argsort(-confidence, kind="stable")
    # Equal confidences are answered in no particular order: each counts its tie group's mean.
    value = correct[order].astype(np.float64)
    _, group, size = np.unique(confidence[order], return_inverse=True, return_counts=True)
    value = (np.bincount(group, weights=value) / size)[group]
    right = np.cumsum(value)
    answered = np.arange(1, len(order) + 1)
    risk = 1.0 - right / answered
    precision = [float(right[max(1, round(c * len(order))) - 1] / max(1, round(c * len(order)))) for c in COVERAGES]
    return precision, float(risk.mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=0, help="only the first N MedQuAD test questions")
    parser.add_argument("--out-of-scope", type=Path, default=OUT_OF_SCOPE, help="JSON lines with a \"question\" each")
    parser.add_argument("--systems", default="ivig-bot,rank-bm25,bm25s", help="which systems (rank-bm25 takes minutes)")
    args = parser.parse_args()
    cases = medquad_questions("test")[: args.limit or None]
    outside = [json.loads(line)["question"] for line in args.out_of_scope.read_text(encoding="utf-8").splitlines() if line.strip()]
    questions = [c["question"] for c in cases] + outside
    in_scope = np.asarray([True] * len(cases) + [False] * len(outside))

    searcher = build_searcher(Settings(corpus_dir=MEDQUAD / "corpus", synonyms_file=ROOT / "corpus" / "synonyms.txt"))
    passages = searcher.passages
    print(f"mixed set: {len(cases)} MedQuAD test questions + {len(outside)} out of scope; {len(passages)} passages\n")
    print("| system | AURC | " + " | ".join(f"P@{c:.0%}" for c in COVERAGES) + " |")
    print("|---|---|" + "---|" * len(COVERAGES))
    served, misses = None, []
    systems = {"ivig-bot": lambda: bot(searcher), "rank-bm25": lambda: rank_bm25(passages),
               "bm25s": lambda: bm25s_stemmed(passages)}
    for name in args.systems.split(","):
        answer = systems[name]()
        results = [answer(q) for q in questions]
        confidence = np.asarray([c for _, c in results])
        correct = np.asarray([
            i is not None and bool(relevant) and (passages[i].document, passages[i].section) in relevant
            for (i, _), relevant in zip(results, [c["relevant"] for c in cases] + [set()] * len(outside))])
        precision, aurc = curve(correct, confidence)
        print(f"| {name} | {aurc:.3f} | " + " | ".join(f"{p:.3f}" for p in precision) + " |", flush=True)
        if name == "ivig-bot":
            given = confidence >= searcher.answer_model.threshold
            served = (given[in_scope].mean(), correct[given].mean() if given.any() else 0.0, given[~in_scope].mean(),
                      correct[in_scope].mean())
            misses = [(q, passages[i]) for q, (i, _), inside, g in zip(questions, results, in_scope, given)
                      if g and not inside]
    if served is None:
        return
    print(f"\nivig-bot as served (threshold {searcher.answer_model.threshold}): answers {served[0]:.3f} of the "
          f"MedQuAD questions and {served[2]:.3f} of the out-of-scope ones; precision of what it answers "
          f"{served[1]:.3f}; first passage right for {served[3]:.3f} of MedQuAD questions before abstention")
    print(f"\nOut-of-scope questions ivig-bot answers as served ({len(misses)}), with the passage it shows:\n")
    for question, passage in misses:
        print(f"- {question} -> {passage.title} / {passage.section}")


if __name__ == "__main__":
    main()
