"""The understanding stage: one analysed message, ConText spans, intents, and no network."""
from __future__ import annotations

import subprocess
import sys

import pytest

from bot.context import ContextRules
from conftest import load_jsonl, plain


def spans(message, kind):
    return [" ".join(message.words[m.scope[0]:m.scope[1]]) for m in message.modifiers if m.kind == kind]


def test_context_marks_negation_up_to_a_termination(searcher):
    message = searcher.understander.read("I don't have chest pain, just a mild headache")
    assert spans(message, "negated") == ["chest pain"]


def test_context_marks_questions_and_the_past(searcher):
    read = searcher.understander.read
    assert spans(read("what are the signs of a stroke"), "hypothetical")
    assert spans(read("I had a TIA in 2016"), "historical")
    assert spans(read("copied from the leaflet: seek help if your throat swells"), "quoted")


def test_context_tells_the_long_past_from_the_recent_past_and_from_what_is_back(searcher):
    read = searcher.understander.read
    teenager = read("I self-harmed as a teenager")
    assert spans(teenager, "long_past") == spans(teenager, "historical") == ["i self harmed"]
    recent = read("I fainted last week at my infusion")
    assert spans(recent, "historical") and not spans(recent, "long_past")
    assert spans(read("I had a TIA in 2016"), "long_past")
    back = read("I self-harmed as a teenager and the urges are back")
    assert not spans(back, "historical") and not spans(back, "long_past")


def test_context_marks_an_animal_as_the_subject_only_when_it_is_one(searcher):
    read = searcher.understander.read
    assert spans(read("our old lab just had a seizure"), "not_a_person") == ["just had a seizure"]
    assert spans(read("I walked the dog had a seizure"), "not_a_person") == []  # the dog is an object
    assert spans(read("my friend has passed out cold"), "negated") == []  # "the pain has passed" is the denial


def test_a_broken_subjects_list_is_a_clear_error():
    with pytest.raises(ValueError, match="subjects.openers, owners, describers, not_people, links"):
        ContextRules({"subjects": {"not_people": ["guinea pig"]}}, str.lower)


def test_held_out_intents_are_mostly_right(dialogue):
    """Personal and dose questions get the guardrail; factual and logistics ones are answered."""
    rows = load_jsonl("eval/intents.heldout.jsonl")
    guardrail = {"personal", "dose"}
    # Counts only: a failing run must not show held-out messages to whoever tunes.
    wrong = sum((dialogue.intents.intent(dialogue.understander.read(r["message"])) in guardrail) != (r["intent"] in guardrail)
                for r in rows)
    # Measured 7.5% wrong on the 455 held-out messages with the learned classifier (15.2% with
    # nearest examples alone; BENCHMARKS.md); the floor stops it getting worse.
    total = len(rows)
    assert wrong / total <= 0.076


def test_no_intent_example_is_a_held_out_message():
    """Examples are written from the tune half's misses; one equal to a held-out message would
    make the held-out accuracy measure a lookup instead of the classifier."""
    import yaml

    from bot.intents import DATA_FILE
    data = yaml.safe_load(DATA_FILE.read_text(encoding="utf-8"))
    examples = {plain(e) for items in data["intents"].values() for e in items}
    examples |= {plain(e) for key in ("follow_up", "new_topic") for e in data[key]}
    held_out = {plain(r["message"]) for name in ("intents", "followups") for r in load_jsonl(f"eval/{name}.heldout.jsonl")}
    shared = len(examples & held_out)  # a number: pytest would show the texts, and they are held out
    assert shared == 0


def test_held_out_follow_ups_and_new_topics_are_mostly_told_apart(dialogue):
    """'How long do they last?' narrows the last answer; 'what about lupus?' starts a new search.
    Measured 0.847 (243 of 287) on the held-out pairs (BENCHMARKS.md); the floor holds it."""
    rows = load_jsonl("eval/followups.heldout.jsonl")
    right = sum(dialogue.intents.is_follow_up(dialogue.understander.read(r["message"])) == (r["label"] == "follow_up")
                for r in rows)
    total = len(rows)
    assert right / total >= 0.84


def test_logistics_is_not_treated_as_a_medical_decision(dialogue):
    for message in ["what should I bring to my infusion appointment", "can i bring a snack", "do i need my insurance card"]:
        assert dialogue.respond(message).kind in ("answer", "no_match")


def test_dose_questions_get_the_guardrail(dialogue):
    reply = dialogue.respond("how many cc will i get")
    assert reply.kind == "personal" and "decided by your own doctor" in reply.reply


def test_nothing_is_fetched_when_the_bot_loads_and_answers():
    """Run a full load and a few answers in a child process whose sockets all fail."""
    code = (
        "import socket\n"
        "def refuse(*a, **k): raise OSError('network disabled in this test')\n"
        "socket.socket.connect = refuse\nsocket.create_connection = refuse\nsocket.getaddrinfo = refuse\n"
        "from bot.config import Settings\nfrom bot.dialogue import build_dialogue\n"
        "d = build_dialogue(Settings())\n"
        "assert d.respond('wat r teh side efects').kind == 'answer'\n"
        "assert d.respond('my tongue feels too big for my mouth').kind == 'urgent'\n"
        "print('offline ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                            env={"HF_HUB_OFFLINE": "0", "PATH": "/usr/bin:/bin", "HOME": "/nonexistent"})
    assert result.returncode == 0 and "offline ok" in result.stdout, result.stderr[-2000:]
