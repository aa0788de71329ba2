"""In-process speed and memory on the MedQuAD library, side by side with the alternatives.

Measures: index build time, peak memory (max RSS), cached-index load time, and per-query
latency (p50/p95, whole pipeline: analysis + scoring + top 10) for ivig-bot, for plain
rank-bm25 BM25Okapi.get_scores + argsort, and for bm25s (its tokenizer included).
Usage: .venv/bin/python bench/speed.py [--queries N] [--skip-rank-bm25]
MedQuAD: Ben Abacha & Demner-Fushman, BMC Bioinformatics 20:511 (2019), CC BY 4.0.
"""
from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bot.config import Settings  # noqa: E402
from bot.search import build_searcher  # noqa: E402
from evaluate import MEDQUAD, bm25s_stemmed, medquad_questions, ours, rank_bm25_naive  # noqa: E402


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def latencies(rank, questions: list[str]) -> tuple[float, float]:
    times = []
    for q in questions:
        started = time.perf_counter()
        rank(q)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--skip-rank-bm25", action="store_true", help="plain rank-bm25 is slow (~0.2 s a query)")
    args = parser.parse_args()
    questions = [c["question"] for c in medquad_questions("test")][: args.queries]

    with tempfile.TemporaryDirectory() as cache:
        settings = Settings(corpus_dir=MEDQUAD / "corpus", synonyms_file=ROOT / "corpus" / "synonyms.txt",
                            index_cache_dir=Path(cache))
        started = time.perf_counter()
        searcher = build_searcher(settings)
        build_s = time.perf_counter() - started
        peak_mb = max_rss_mb()
        started = time.perf_counter()
        build_searcher(settings)  # loads the index just saved
        load_s = time.perf_counter() - started
    print(f"passages: {len(searcher.passages)}")
    print(f"ivig-bot index build (load, split, analyse, index, save): {build_s:.1f} s; peak RSS after build {peak_mb:.0f} MB")
    print(f"ivig-bot cached index load: {load_s:.1f} s")
    rank = ours(searcher)
    for q in questions[:50]:
        rank(q)  # warm the stem cache as a running server would be
    p50, p95 = latencies(rank, questions)
    print(f"ivig-bot query: p50 {p50:.2f} ms, p95 {p95:.2f} ms  (n={len(questions)})", flush=True)
    # As served: understanding, BM25 fused with meaning over the candidates, the answer model.
    p50, p95 = latencies(lambda q: searcher.search(searcher.parse(q)), questions)
    print(f"ivig-bot search as served: p50 {p50:.2f} ms, p95 {p95:.2f} ms  (n={len(questions)})", flush=True)

    started = time.perf_counter()
    bm25s_rank = bm25s_stemmed(searcher.passages)
    print(f"bm25s index build: {time.perf_counter() - started:.1f} s")
    p50, p95 = latencies(bm25s_rank, questions)
    print(f"bm25s query (with its tokenizer): p50 {p50:.2f} ms, p95 {p95:.2f} ms  (n={len(questions)})", flush=True)

    if not args.skip_rank_bm25:
        started = time.perf_counter()
        naive = rank_bm25_naive(searcher.passages)
        print(f"rank-bm25 index build: {time.perf_counter() - started:.1f} s")
        sample = questions[:100]
        p50, p95 = latencies(naive, sample)
        print(f"rank-bm25 get_scores query: p50 {p50:.2f} ms, p95 {p95:.2f} ms  (n={len(sample)})")
    print(f"peak RSS of this whole run (every index it built): {max_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
