"""Spot messages that describe a possible emergency happening now.

This check runs on every message before anything else and no other rule can switch it off.
It errs towards safety: a symptom phrase is urgent unless the whole message is plainly a
general information question with no sign that it is about someone now.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from collections import Counter

from .analysis import SpellingCorrector
from .intents import normalise

# Each rule fires when the message contains one phrase from every one of its groups.
RULES: dict[str, tuple[tuple[str, ...], ...]] = {
    "breathing": ((
        "cant breathe", "cant breath", "cannot breathe", "cannot breath", "unable to breathe", "cant get air",
        "trouble breathing", "difficulty breathing", "difficult to breathe", "hard to breathe", "hard to breath",
        "struggling to breathe", "struggle to breathe", "short of breath", "shortness of breath", "out of breath",
        "gasping", "catch my breath", "breathless", "not breathing", "stopped breathing", "choking",
        "wheezing", "wheeze", "wheezy", "breathing is hard", "breathing is difficult", "cant breathing",
    ),),
    "throat": (("throat",), ("tight", "tightness", "tightening", "closing", "close", "closed", "swelling", "swollen", "swell", "swelled")),
    "swelling": (
        ("swelling", "swollen", "swell", "swelled", "swells", "puffy", "puffed"),
        ("face", "lip", "lips", "tongue", "tounge", "eye", "eyes", "eyelid", "eyelids", "mouth", "throat"),
    ),
    "chest": (("chest",), ("pain", "pains", "hurts", "hurting", "hurt", "tight", "tightness", "pressure", "ache",
                           "aching", "crushing", "squeezing", "heavy", "heaviness")),
    "heart_attack": (("heart attack",),),
    "fainting": ((
        "fainted", "fainting", "faint", "pass out", "passed out", "passing out", "blacked out", "black out",
        "blacking out", "unconscious", "collapsed", "collapse", "collapsing", "lost consciousness", "keeled over",
    ),),
    "worst_headache": (("worst",), ("headache", "head ache", "head pain", "migraine")),
    "meningism": (("headache", "head ache", "head pain", "migraine"), (
        "stiff neck", "neck is stiff", "neck stiff", "neck stiffness", "cant bend my neck",
        "light hurts", "sensitive to light", "light sensitivity", "hurts to look at light", "bright light",
    )),
    "stroke_weakness": (("weak", "weakness", "numb", "numbness", "droop", "drooping", "droopy", "paralysed",
                         "paralyzed", "cant move", "cannot move"),
                        ("one side", "left side", "right side", "arm", "leg", "face", "half")),
    "stroke_speech": (("slurred", "slurring", "slur", "cant speak", "cannot speak", "cant talk", "trouble speaking",
                       "trouble talking", "words come out wrong", "cant get words out"),),
    "self_harm": ((
        "kill myself", "killing myself", "suicide", "suicidal", "end my life", "ending my life", "hurt myself",
        "harm myself", "harming myself", "self harm", "dont want to live", "dont want to be alive",
        "better off dead", "want to die", "take my own life", "end it all", "overdose on",
    ),),
}
NEVER_INFORMATIONAL = frozenset({"self_harm"})

# Extra search words so the documents' own safety advice (for example, to tell the nurse at
# once about signs of an allergic reaction) can follow the urgent message. Search only.
SEARCH_HINTS = {
    "breathing": "difficulty breathing wheezing allergic reaction",
    "throat": "swelling difficulty breathing allergic reaction",
    "swelling": "swelling of the eyes and face allergic reaction",
    "chest": "chest pain chest tightness",
    "worst_headache": "severe headaches",
    "meningism": "severe headaches",
}

# "What are the signs of ...?" with nobody in it is a request for information.
INFORMATIONAL = re.compile(
    r"^(what|which|how|can|could|does|do|is|are|will|why)\b.*\b(signs?|symptoms?|side effects?|cause|causes|"
    r"mean|means|warning|happen|happens|reaction|reactions|common|normal|risk|risks)\b"
)
PERSON_NOW = frozenset(
    "i im i'm ive my me mine we us our he she him his her hes shes son daughter husband wife mom mum dad "
    "mother father child kid baby partner friend now currently right having feel feeling felt".split()
)

VOCABULARY = frozenset(w for groups in RULES.values() for group in groups for phrase in group for w in phrase.split())


@dataclass(frozen=True)
class Urgency:
    category: str

    @property
    def search_hint(self) -> str:
        return SEARCH_HINTS.get(self.category, "")


class UrgentDetector:
    """Holds the typo corrector for the urgent vocabulary (built once, at start-up)."""

    def __init__(self) -> None:
        self._corrector = SpellingCorrector(Counter(VOCABULARY))

    def detect(self, message: str) -> Urgency | None:
        words = normalise(message).split()
        return match(words, [self._corrector.correct(w) for w in words])


def match(words: list[str], corrected_words: list[str]) -> Urgency | None:
    corrected = " " + " ".join(corrected_words) + " "
    for category, groups in RULES.items():
        if all(any(f" {phrase} " in corrected for phrase in group) for group in groups):
            if category in NEVER_INFORMATIONAL or not is_informational(words):
                return Urgency(category)
    return None


def is_informational(words: list[str]) -> bool:
    return bool(INFORMATIONAL.search(" ".join(words))) and not PERSON_NOW.intersection(words)
