"""What one message costs in process: triage alone, and the whole reply, for ordinary and worst-case input.

    .venv/bin/python bench/message_costs.py

Triage target (issue 9): <= 1 ms p95 for a 1,000-character message, on the understood message.
Whole-reply target (issue 10): any message up to the length limit answered in <= 50 ms, with no
lasting memory growth. Worst cases: one 1,000-letter word, 150 distinct unknown words, 1,000
repeated characters, mixed scripts, and long real messages from the held-out triage set.
"""
from __future__ import annotations

import json
import random
import resource
import statistics
import string
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import Settings  # noqa: E402
from bot.analysis import read_word_list  # noqa: E402
from bot.dialogue import build_dialogue  # noqa: E402
from bot.insights import open_insights, safe_terms  # noqa: E402
from bot.search import DATA_DIR  # noqa: E402


def percentiles(times: list[float]) -> str:
    times = sorted(times)
    return f"p50 {statistics.median(times):.2f} ms, p95 {times[int(len(times) * 0.95) - 1]:.2f} ms, max {times[-1]:.2f} ms"


def timed(action, items, repeat: int = 1) -> list[float]:
    out = []
    for _ in range(repeat):
        for item in items:
            started = time.perf_counter()
            action(item)
            out.append((time.perf_counter() - started) * 1000)
    return out


def main() -> None:
    rng = random.Random(7)
    dialogue = build_dialogue(Settings(rate_limit=None))
    read, assess = dialogue.understander.read, dialogue.triage.judge  # what a turn runs
    held_out = [json.loads(line)["message"] for line in (ROOT / "tests/data/eval/triage.heldout.jsonl").read_text().splitlines()]
    # 1,000-character messages built from real ones, so triage sees real words throughout.
    long_real = [(" ".join(rng.sample(held_out, 12)) * 3)[:1000] for _ in range(200)]
    worst = {
        "one 1,000-letter word": "a" * 1000,
        "1,000 random letters, no spaces": "".join(rng.choice(string.ascii_lowercase) for _ in range(1000)),
        "150 distinct unknown 6-letter words": " ".join("".join(rng.choice(string.ascii_lowercase) for _ in range(6))
                                                        for _ in range(143))[:1000],
        "1,000 repeated characters with spaces": ("zzzzzzzzz " * 100)[:1000],
        "mixed scripts": ("héllo мир 你好 مرحبا 🙂 " * 60)[:1000],
    }
    for text in [*held_out[:50], *worst.values()]:
        dialogue.respond(text)  # warm caches as a running server would be
    understood = [read(m) for m in long_real]
    print(f"triage on an understood message, held-out messages: {percentiles(timed(assess, [read(m) for m in held_out], 3))}")
    print(f"triage on an understood 1,000-character message: {percentiles(timed(assess, understood, 3))}")
    print(f"whole reply, held-out messages: {percentiles(timed(dialogue.respond, held_out))}")
    print(f"whole reply, 1,000-character real messages: {percentiles(timed(dialogue.respond, long_real))}")
    with tempfile.TemporaryDirectory() as state:
        # What recording adds to a reply (issue 12 target: <= 1 ms p95), SQLite in WAL mode; the
        # no_match path, which also extracts the privacy-safe terms, is the costly one.
        insights = open_insights("on", None, Path(state), "bench", "key", 90)
        topic = frozenset(read_word_list(DATA_DIR / "focus_words.txt"))
        def record(text: str) -> None:
            insights.record_reply("no_match", None, safe_terms(text, dialogue.understander, topic))

        print(f"insights recording per reply (no_match path, SQLite WAL): {percentiles(timed(record, held_out[:200]))}")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for name, text in worst.items():
        print(f"whole reply, {name}: {percentiles(timed(dialogue.respond, [text], 20))}")
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS before the worst cases {before:.0f} MB, after {after:.0f} MB")


if __name__ == "__main__":
    main()
