"""Intents: what kind of message this is, learned from examples in bot/data/intents.yaml.

A classifier learned from the examples' word stems and stem pairs decides, so "should I switch
to the shots?" (personal) and "can I get it as a shot instead of a drip?" (factual) fall on
different sides without a hand-written rule. Nearest examples, by meaning (the message's
embedding) and shared words, keep small talk for messages that look like it, and decide
follow-up or new topic together with a second learned classifier. Clinicians extend the
behaviour by adding examples in patients' words.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
from .analysis import read_yaml, words
from .cache import NO_CACHE, Cache
from .learning import StemClassifier
from .understanding import Message, Understander

DATA_FILE = Path(__file__).resolve().parent / "data" / "intents.yaml"
INTENTS = ("factual", "personal", "dose", "logistics", "greeting", "thanks", "goodbye", "identity", "human", "help", "more")
SMALL_TALK = frozenset({"greeting", "thanks", "goodbye", "identity", "human", "help"})
CONVERSATIONAL = SMALL_TALK | {"more"}
# Tuned on the tune half of tests/data/eval/intents.*.jsonl (BENCHMARKS.md): how much meaning
# counts next to shared words when comparing a message with an example, and the learned
# classifier's regularisation.
MEANING_WEIGHT = 0.5
INTENT_C = 64.0
TOPIC_LEARNED_WEIGHT = 0.3  # follow-up or new topic: the learned probability next to the nearest example
# Another intent's probability must beat a plain question's by this much: when the examples are
# unsure, answering from the documents is the safe default.
MARGIN = 0.02
# Small talk and "more" must look very like their examples: "my toes have been tingly since
# yesterday" shares a word with "see you" but is no goodbye.
CONVERSATIONAL_MIN = 0.6


class IntentsError(ValueError):
    """intents.yaml is not usable."""


class ExampleClassifier:
    """How near a message is to each label's examples; similarity = meaning and shared words, blended."""

    def __init__(self, examples: Mapping[str, Sequence[str]], understander: Understander) -> None:
        self._labels: list[str] = []
        self._words: list[frozenset[str]] = []
        vectors = []
        for label, texts in examples.items():
            for text in texts:
                message = understander.read(str(text))
                self._labels.append(label)
                self._words.append(features(message))
                vectors.append(message.vector)
        self._vectors = np.vstack(vectors) if vectors else np.zeros((0, understander.embedder.dimensions), np.float32)

    def scores(self, message: Message) -> dict[str, float]:
        """Each label's best similarity to the message."""
        meaning = self._vectors @ message.vector
        mine = features(message)
        best: dict[str, float] = {}
        for i, label in enumerate(self._labels):
            theirs = self._words[i]
            shared = len(mine & theirs) / len(mine | theirs) if mine or theirs else 0.0
            score = MEANING_WEIGHT * float(meaning[i]) + (1 - MEANING_WEIGHT) * shared
            if score > best.get(label, -1.0):
                best[label] = score
        return best


def features(message: Message) -> frozenset[str]:
    """Words and word pairs: intent lives in small words ("should i", "can i") as much as in nouns."""
    words = message.words
    return frozenset(words) | frozenset(f"{a} {b}" for a, b in zip(words, words[1:]))


class Intents:
    def __init__(self, data: Mapping, understander: Understander, cache: Cache = NO_CACHE) -> None:
        intents = data.get("intents") if isinstance(data, dict) else None
        if not isinstance(intents, dict) or not all(isinstance(v, list) and v for v in intents.values()):
            raise IntentsError("intents.yaml needs an `intents` mapping of intent -> list of examples")
        unknown = sorted(set(intents) - set(INTENTS))
        if unknown or "factual" not in intents:
            raise IntentsError(f"intents.yaml: unknown intent(s) {unknown}; known: {', '.join(INTENTS)}")
        for key in ("follow_up", "new_topic"):
            if not isinstance(data.get(key), list) or not data[key]:
                raise IntentsError(f"intents.yaml needs a `{key}` list of examples")
        topics = {"follow_up": data["follow_up"], "new_topic": data["new_topic"]}
        self._nearest = ExampleClassifier(intents, understander)
        self._topic = ExampleClassifier(topics, understander)
        self._learned = learned(intents, understander, cache, "intent-net")
        self._topic_learned = learned(topics, understander, cache, "topic-net")

    @classmethod
    def load(cls, understander: Understander, path: Path = DATA_FILE, cache: Cache = NO_CACHE) -> "Intents":
        return cls(read_yaml(path, IntentsError), understander, cache)

    def intent(self, message: Message) -> str:
        chance = self._learned.chances(message.stems)
        # The likeliest intent, except small talk or "more" that does not look like its examples.
        # The nearest-example scan (about 1 ms) is only needed when one of those is the likeliest.
        near: dict[str, float] | None = None
        for best in sorted(chance, key=chance.__getitem__, reverse=True):
            if best not in CONVERSATIONAL:
                break
            near = near if near is not None else self._nearest.scores(message)
            if near.get(best, -1.0) >= CONVERSATIONAL_MIN:
                break
        if best != "factual" and chance[best] < chance.get("factual", -1.0) + MARGIN:
            return "factual"
        return best

    def is_follow_up(self, message: Message) -> bool:
        """Does the message lean on the previous question? Asked only when there is one.
        Nearest examples and the learned classifier's probabilities, blended."""
        near = self._topic.scores(message)
        chance = self._topic_learned.chances(message.stems)
        blended = {label: near.get(label, -1.0) + TOPIC_LEARNED_WEIGHT * p for label, p in chance.items()}
        return max(blended, key=blended.__getitem__) == "follow_up"


def learned(examples: Mapping[str, Sequence[str]], understander: Understander, cache: Cache, name: str) -> StemClassifier:
    """A classifier of the examples' stems, fitted now or loaded as fitted before (the cache key
    covers the data files)."""
    def fit() -> dict[str, np.ndarray]:
        pairs = [(understander.read(str(text)).stems, label) for label, texts in examples.items() for text in texts]
        return StemClassifier.fit([stems for stems, _ in pairs], [label for _, label in pairs], INTENT_C).arrays()

    return StemClassifier.from_arrays(cache.arrays(name, fit, StemClassifier.valid))


def vocabulary(path: Path = DATA_FILE) -> set[str]:
    """The examples' words, as preferred spelling corrections."""
    data = read_yaml(path, IntentsError) or {}
    texts = [t for group in (data.get("intents") or {}).values() for t in group or ()]
    texts += [*(data.get("follow_up") or ()), *(data.get("new_topic") or ())]
    return {w for t in texts for w in words(str(t)) if w.isalpha()}
