"""Quality on the patient evaluation sets (tests/data/eval), on one half: tune or heldout.

    .venv/bin/python bench/patients.py heldout > report.md

Prints triage recall and false alarms, answer quality on the patient questions, and intent
accuracy, with every miss listed. Tune on `tune` only; `heldout` is for reporting.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from bot.config import Settings
from bot.dialogue import Dialogue, build_dialogue
from bot.passages import Passage
from bot.triage import EXAMPLES_FILE

EVAL = Path(__file__).resolve().parent.parent / "tests" / "data" / "eval"


def rows(name: str, half: str) -> list[dict]:
    # The triage tune half is what the learned net is trained on: scoring it measures nothing.
    path = EXAMPLES_FILE if (name, half) == ("triage", "tune") else EVAL / f"{name}.{half}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def answers(question: dict, passage: Passage) -> bool:
    """Is `passage` one the evaluation set accepts for this in-scope question?"""
    return question["expect"] == "answer" and any(
        passage.document == a["document"] and passage.text.startswith(a["starts"]) for a in question["answers"])


def batch(row: dict) -> str:
    """Which writers' batch a row came from (BENCHMARKS.md says when each was written)."""
    return row.get("source") or "first writers"


def by_batch(triage: list[dict], missed: list[dict], alarms: list[dict], answerable: list[dict],
             outside: list[dict], right: list[dict], wrong: list, answered_outside: list[dict]) -> None:
    """The same measures per writers' batch: a batch nobody has read the misses of is the cleanest."""
    def share(part: list, whole: list) -> str:
        return f"{len(part) / len(whole):.3f}" if whole else "-"
    wrong_questions = [q for q, _ in wrong]
    print("| batch | emergencies | recall | look-alikes | false alarms | in-scope | correct | misleading | out of scope | abstained |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name in sorted({batch(r) for r in triage + answerable + outside}):
        def mine(rows: list[dict]) -> list[dict]:
            return [r for r in rows if batch(r) == name]
        urgent, benign = mine([r for r in triage if r["urgent"]]), mine([r for r in triage if not r["urgent"]])
        inside, out = mine(answerable), mine(outside)
        recall = f"{1 - len(mine(missed)) / len(urgent):.3f}" if urgent else "-"
        abstained = f"{1 - len(mine(answered_outside)) / len(out):.3f}" if out else "-"
        print(f"| {name} | {len(urgent)} | {recall} | {len(benign)} | {share(mine(alarms), benign)} | {len(inside)} | "
              f"{share(mine(right), inside)} | {share(mine(wrong_questions), inside)} | {len(out)} | {abstained} |")


def main(half: str) -> None:
    dialogue = build_dialogue(Settings())
    triage = rows("triage", half)
    urgent = [r for r in triage if r["urgent"]]
    benign = [r for r in triage if not r["urgent"]]
    missed = [r for r in urgent if dialogue.respond(r["message"]).kind != "urgent"]
    alarms = [r for r in benign if dialogue.respond(r["message"]).kind == "urgent"]
    print(f"## Triage ({half}): recall {1 - len(missed) / len(urgent):.3f} ({len(urgent) - len(missed)}/{len(urgent)}), "
          f"false alarms {len(alarms) / len(benign):.3f} ({len(alarms)}/{len(benign)})\n")
    for r in missed:
        print(f"- missed ({r['category']}; {', '.join(r['tags'])}): {r['message']}")
    for r in alarms:
        print(f"- false alarm ({', '.join(r['tags'])}): {r['message']}")

    questions = rows("questions", half)
    answerable = [q for q in questions if q["expect"] == "answer"]
    outside = [q for q in questions if q["expect"] == "none"]
    searcher = dialogue.searcher
    right, wrong, abstained = [], [], []
    for q in answerable:
        hits = searcher.search(searcher.parse(q["question"]))
        if not hits:
            abstained.append(q)
        elif answers(q, hits[0].passage):
            right.append(q)
        else:
            wrong.append((q, hits[0]))
    answered_outside = [(q, h[0]) for q in outside if (h := searcher.search(searcher.parse(q["question"])))]
    n = len(answerable)
    print(f"\n## Patient questions ({half}): first passage correct {len(right) / n:.3f}, answered {(n - len(abstained)) / n:.3f}, "
          f"misleading {len(wrong) / n:.3f}; out of scope abstained {1 - len(answered_outside) / len(outside):.3f} "
          f"({len(outside) - len(answered_outside)}/{len(outside)})\n")
    by_batch(triage, missed, alarms, answerable, outside, right, wrong, [q for q, _ in answered_outside])
    print("\nRisk-coverage (the answer model's threshold is marked *):\n")
    print("| threshold | in-scope answered | first passage correct | misleading | out of scope answered |")
    print("|---|---|---|---|---|")
    scored = []
    for q in questions:
        query = searcher.parse(q["question"])
        ranked = searcher.rank(query, 2)
        chance = searcher.confidence(query, ranked) if ranked else 0.0
        good = bool(ranked) and answers(q, ranked[0].passage)
        scored.append((chance, q["expect"] == "answer", good))
    for threshold in sorted({round(t / 20, 2) for t in range(2, 19)} | {searcher.answer_model.threshold}):
        a = [(inside, good) for chance, inside, good in scored if chance >= threshold]
        mark = "*" if threshold == searcher.answer_model.threshold else ""
        print(f"| {threshold:.2f}{mark} | {sum(1 for i, _ in a if i) / n:.3f} | {sum(1 for _, g in a if g) / n:.3f} | "
              f"{sum(1 for i, g in a if i and not g) / n:.3f} | {sum(1 for i, _ in a if not i) / len(outside):.3f} |")
    print()
    for q, hit in wrong:
        print(f"- wrong passage: {q['question']} -> \"{hit.passage.text[:60]}…\"")
    for q in abstained:
        print(f"- no answer: {q['question']}")
    for q, hit in answered_outside:
        print(f"- answered out of scope: {q['question']} -> \"{hit.passage.text[:60]}…\"")

    intents = rows("intents", half)
    got = [(r, dialogue.intents.intent(dialogue.understander.read(r["message"]))) for r in intents]
    bad = [(r, g) for r, g in got if g != r["intent"]]
    print(f"\n## Intents ({half}): accuracy {1 - len(bad) / len(intents):.3f} ({len(intents) - len(bad)}/{len(intents)})\n")
    for r, g in bad:
        print(f"- {r['intent']} read as {g}: {r['message']}")
    conversation(dialogue, half, intents)


# Intents whose messages are conversation, not symptoms: an alarm on one is a false alarm.
CHAT = {"greeting", "thanks", "goodbye", "identity", "help", "human", "more", "logistics"}


def conversation(dialogue: Dialogue, half: str, intents: list[dict]) -> None:
    """Follow-up or new topic after a question, and alarms raised on plain conversation."""
    pairs = rows("followups", half)
    read = dialogue.understander.read
    misread = [r for r in pairs if ("follow_up" if dialogue.intents.is_follow_up(read(r["message"])) else "new_topic") != r["label"]]
    print(f"\n## Follow-ups ({half}): follow-up or new topic read right {1 - len(misread) / len(pairs):.3f} "
          f"({len(pairs) - len(misread)}/{len(pairs)})\n")
    for r in misread:
        print(f"- {r['label']} read as the other: {r['previous']} -> {r['message']}")
    chat = [r["message"] for r in pairs] + [r["message"] for r in intents if r["intent"] in CHAT]
    alarms = [(m, u) for m in chat if (u := dialogue.triage.assess(read(m)))]
    print(f"\n## Alarms on plain conversation ({half}): {len(alarms)} of {len(chat)} follow-ups and small-talk, "
          "logistics messages\n")
    for m, u in alarms:
        print(f"- {u.category} ({u.how}): {m}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tune")
