"""Grid search of field weights and section-cue weight on the MedQuAD *dev* split only.

Usage: .venv/bin/python bench/tune.py [--limit N] [--titles 1,2,3,4] [--sections 1,2,3] [--cues 0.5,1,2,3]
"""
from __future__ import annotations

import argparse
import itertools
from dataclasses import replace
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bot.search as search  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.index import FieldWeights  # noqa: E402
from evaluate import MEDQUAD, medquad_questions, ours, score  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=3000)
    parser.add_argument("--titles", default="1,2,3,4", help="title weights to try")
    parser.add_argument("--sections", default="1,2,3", help="heading weights to try")
    parser.add_argument("--cues", default="0.5,1,2,3", help="section-cue weights to try")
    args = parser.parse_args()
    numbers = lambda text, kind: [kind(x) for x in text.split(",")]  # noqa: E731
    cases = medquad_questions("dev")[: args.limit]
    settings = Settings(corpus_dir=MEDQUAD / "corpus", synonyms_file=ROOT / "corpus" / "synonyms.txt")
    for title, section in itertools.product(numbers(args.titles, int), numbers(args.sections, int)):
        searcher = search.build_searcher(settings, FieldWeights(title=title, section=section))
        for cue in numbers(args.cues, float):
            result = score(ours(replace(searcher, cue_weight=cue)), searcher.passages, cases)
            print(f"title={title} section={section} cue={cue}: hit@1 {result['hit@1']:.3f} hit@3 {result['hit@3']:.3f} "
                  f"mrr {result['mrr@10']:.3f}", flush=True)


if __name__ == "__main__":
    main()
