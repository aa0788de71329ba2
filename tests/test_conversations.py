"""Whole conversations through the HTTP API, with the context sent back each turn."""
from __future__ import annotations

import base64
import json

import pytest

from conftest import load_jsonl

CONVERSATIONS = load_jsonl("conversations.jsonl")


@pytest.mark.parametrize("conversation", CONVERSATIONS, ids=[c["name"] for c in CONVERSATIONS])
def test_conversation(chat, conversation):
    context = None
    seen: set[str] = set()
    for turn in conversation["turns"]:
        body = chat(turn["say"], context)
        where = f"after saying {turn['say']!r}: {body['kind']} {body['reply'][:60]!r}"
        kinds = turn["kind"] if isinstance(turn["kind"], list) else [turn["kind"]]
        assert body["kind"] in kinds, where
        texts = [p["text"] for p in body["passages"]]
        if "first" in turn:
            assert texts and turn["first"] in texts[0], where
        if "any" in turn:
            assert any(turn["any"] in t for t in texts), where
        if "reply" in turn:
            assert turn["reply"] in body["reply"], where
        if turn.get("new"):
            assert texts and not seen & set(texts), where
        if "urgent" in turn:
            assert body["urgent"]["category"] == turn["urgent"], where
        if body["kind"] == "urgent":
            assert body["urgent"]["message"] and body["urgent"]["title"], where
        else:
            assert body["urgent"] is None, where
        if turn.get("suggestions"):
            assert 2 <= len(body["suggestions"]) <= 3, where
        assert body["disclaimer"]
        seen.update(texts[:1])  # the first passage is shown; the others are folded until "tell me more"
        context = body["context"]


def test_every_suggestion_is_answerable(chat):
    for message in ["hi", "what are IVIG headaches like", "can my dog eat chocolate", "help"]:
        for suggestion in chat(message)["suggestions"]:
            assert chat(suggestion)["kind"] == "answer", suggestion


def test_context_stays_small(chat):
    context = None
    for message in ["side effects of ivig", "more", "more", "what about chronic fatigue syndrome and fibromyalgia?"]:
        context = chat(message, context)["context"]
        assert len(context) < 400


def test_tampered_context_is_ignored(chat):
    context = chat("what are IVIG headaches like")["context"]
    payload, signature = context.rsplit(".", 1)
    forged = base64.urlsafe_b64encode(json.dumps({"t": [["cost", 1.0]], "s": []}).encode()).decode().rstrip("=")
    for bad in [context[:-3] + "xyz", context[: len(context) // 2], forged + "." + signature, "x" * 3000]:
        body = chat("how long do they last?", bad)
        assert body["kind"] == "no_match"  # without a trusted topic, "they" means nothing


def test_context_from_another_corpus_is_ignored(chat, make_corpus, settings, build):
    from bot.dialogue import Dialogue
    other_settings = settings.with_overrides(corpus_dir=make_corpus({"a.md": "---\ntitle: T\npublisher: P\n---\n\nHeadaches happen.\n"}))
    other = Dialogue(build(other_settings), other_settings)
    foreign = other.to_json(other.respond("headaches"))["context"]
    assert chat("how long do they last?", foreign)["kind"] == "no_match"
    # Even when both servers are given the same secret key.
    keyed = settings.with_overrides(secret_key="shared")
    keyed_other = Dialogue(other.searcher, other_settings.with_overrides(secret_key="shared"))
    here = Dialogue(build(keyed), keyed)
    foreign = keyed_other.to_json(keyed_other.respond("headaches"))["context"]
    assert here.respond("how long do they last?", foreign).kind == "no_match"


def test_bot_never_answers_in_its_own_medical_words(chat, dialogue):
    from bot import templates
    fixed = {v for k, v in vars(templates).items() if k.isupper() and isinstance(v, str)} | set(templates.SMALL_TALK.values())
    for message in ["should I stop my IVIG?", "what are IVIG headaches like", "hello", "i can't breathe", "asdf"]:
        body = chat(message)
        assert body["reply"] in fixed or body["reply"].startswith("I read ")
