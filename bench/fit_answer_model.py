"""Fit the answer model (when to answer, when to say nothing answers) and write bot/data/answer_model.json.

    .venv/bin/python bench/fit_answer_model.py

Trained on the tune half of the patient questions on the built-in corpus
(tests/data/eval/questions.tune.jsonl), never the held-out half. A question is a positive
example when the best-ranked passage answers it; out-of-scope questions are negatives. The
script prints the cross-validated risk-coverage curve and picks the threshold that maximises
(correct answers - 2 x wrong answers): showing a passage that does not answer costs more than
saying nothing answers. Two models are written: `with_examples` (coverage and the scope
classifier, for corpora whose documents carry example questions) and `plain` (coverage
alone, for corpora without, such as MedQuAD). A richer feature set's curve is printed too,
so it is adopted only when it beats them.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import intents, triage  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.search import ANSWER_MODEL, build_searcher  # noqa: E402

WRONG_COST = 2.0


MODELS = {"plain": ("coverage",), "with_examples": ("coverage", "in_scope", "asked", "outside")}
MEANING_FEATURES = ("outside",)  # features read from the query's meaning vector


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--compare", default="coverage,in_scope,asked,meaning,margin,unknown",
                        help="another feature set whose curve is printed for comparison")
    args = parser.parse_args()
    searcher = build_searcher(Settings(), domain_words=triage.vocabulary() | intents.vocabulary())
    tune = [json.loads(line) for line in (ROOT / "tests/data/eval/questions.tune.jsonl").read_text().splitlines()]
    rows, labels, answerable = [], [], []
    for q in tune:
        query = searcher.parse(q["question"])
        hits = searcher.rank(query, 2)
        rows.append(searcher.features(query, hits) if hits else None)
        labels.append(int(bool(hits) and q["expect"] == "answer" and any(
            hits[0].passage.document == a["document"] and hits[0].passage.text.startswith(a["starts"])
            for a in q["answers"])))
        answerable.append(q["expect"] == "answer")
    y, answerable = np.asarray(labels), np.asarray(answerable)
    ranked = np.asarray([r is not None for r in rows])
    fitted: dict[str, dict] = {}
    for name, names in [*MODELS.items(), ("comparison", tuple(args.compare.split(",")))]:
        x = np.asarray([[r[n] for n in names] if r else [0.0] * len(names) for r in rows])
        p = np.zeros(len(y))
        for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(x, y):
            p[test] = LogisticRegression(max_iter=2000).fit(x[train], y[train]).predict_proba(x[test])[:, 1]
        p[~ranked] = 0.0
        print(f"{name} ({','.join(names)}): cross-validated risk-coverage on {len(y)} tune questions")
        print("  threshold  answered(in-scope)  correct  misleading  out-of-scope answered")
        best = None
        n = int(answerable.sum())
        for threshold in np.round(np.arange(0.1, 0.91, 0.05), 2):
            answered = p >= threshold
            correct = int((answered & (y == 1)).sum())
            wrong = int((answered & (y == 0)).sum())
            print(f"  {threshold:.2f}       {(answered & answerable).sum() / n:.3f}               {correct / n:.3f}    "
                  f"{(answered & answerable & (y == 0)).sum() / n:.3f}       {(answered & ~answerable).sum() / (~answerable).sum():.3f}")
            score = correct - WRONG_COST * wrong
            if best is None or score > best[0]:
                best = (score, float(threshold))
        if name in MODELS:
            model = LogisticRegression(max_iter=2000).fit(x, y)
            fitted[name] = {"weights": {f: round(float(w), 4) for f, w in zip(names, model.coef_[0])},
                            "bias": round(float(model.intercept_[0]), 4), "threshold": best[1],
                            # A query without a meaning vector (a follow-up built from the topic's
                            # words) gets the tune half's average closeness, not an extreme.
                            "fill": {f: round(float(x[ranked, i].mean()), 4) for i, f in enumerate(names)
                                     if f in MEANING_FEATURES}}
    ANSWER_MODEL.write_text(json.dumps({**fitted, "fitted_by": "bench/fit_answer_model.py"}, indent=2) + "\n",
                            encoding="utf-8")
    print(f"wrote {ANSWER_MODEL.relative_to(ROOT)}: {fitted}")


if __name__ == "__main__":
    main()
