"""ConText: which words of a message are negated, hypothetical, past, generic or figurative,
and which symptoms belong to an animal or a character in a story rather than a person.

A compact implementation of the published trigger-and-scope algorithm (Harkema et al. 2009),
with every trigger in bot/data/context.yaml for clinical review. It marks spans of words; it
knows nothing about symptoms. Triage then asks whether a symptom it found lies in a span.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Callable, Mapping, Sequence

from .analysis import read_yaml, words
from .phrases import PhraseMatcher

DATA_FILE = Path(__file__).resolve().parent / "data" / "context.yaml"
KINDS = ("negated", "hypothetical", "historical", "long_past", "generic", "quoted", "figurative", "not_a_person")
PAST = frozenset({"historical", "long_past"})
MAX_QUOTED = 200  # a pasted leaflet runs to the end of the message, across sentences


@dataclass(frozen=True)
class Modifier:
    kind: str
    trigger: tuple[int, int]  # word span of the trigger phrase
    scope: tuple[int, int]  # word span it modifies


class ContextRules:
    def __init__(self, data: Mapping, stem: Callable[[str], str], rewrite: Mapping[str, str] | None = None) -> None:
        problems = [k for k in data if k not in (*KINDS, "max_scope", "comma_ends_scope", "terminations", "pseudo",
                                                 "present", "applies_now", "returning", "not_over", "years_are_historical",
                                                 "ongoing_since", "subjects")]
        if problems:
            raise ValueError(f"context.yaml: unknown section(s) {', '.join(problems)}")
        for kind in KINDS:
            for direction, phrases in (data.get(kind) or {}).items():
                if not all(isinstance(p, str) for p in phrases):
                    # YAML reads a bare `no` as false: such a trigger must be quoted.
                    raise ValueError(f"context.yaml: {kind}.{direction} has a phrase that is not text (quote it)")
        self.max_scope = int(data.get("max_scope", 8))
        self.comma_ends = frozenset(data.get("comma_ends_scope", ()))
        self.years_are_historical = bool(data.get("years_are_historical", False))
        ongoing = data.get("ongoing_since") or []
        if not all(isinstance(w, str) and len(words(w)) == 1 for w in ongoing):
            raise ValueError("context.yaml: ongoing_since must be a list of single words")
        self._since = frozenset(stem(words(w)[0]) for w in ongoing)
        triggers = [(phrase, f"{kind}:{direction}")
                    for kind in KINDS for direction in ("forward", "backward")
                    for phrase in (data.get(kind) or {}).get(direction, ())]
        self._triggers = PhraseMatcher(triggers, stem, rewrite)
        self._terminations = PhraseMatcher([(p, "end") for p in data.get("terminations", ())], stem, rewrite)
        self._pseudo = PhraseMatcher([(p, "pseudo") for p in data.get("pseudo", ())], stem, rewrite)
        self._present = PhraseMatcher([(p, "present") for p in data.get("present", ())], stem, rewrite)
        self._returning = PhraseMatcher([(p, "returning") for p in data.get("returning", ())], stem, rewrite)
        self._applies_now = PhraseMatcher([(p, "applies_now") for p in data.get("applies_now", ())], stem, rewrite)
        self._not_over = PhraseMatcher([(p, "not_over") for p in data.get("not_over", ())], stem, rewrite)
        subjects = data.get("subjects") or {}
        keys = ("openers", "owners", "describers", "not_people", "links", "either")
        lists = {key: subjects.get(key) or [] for key in keys}
        if not all(isinstance(w, str) and len(words(w)) == 1 for found in lists.values() for w in found):
            raise ValueError("context.yaml: subjects." + ", ".join(keys) + " must be lists of single words")
        self._openers, self._owners, self._describers, self._not_people, self._links, self._either = (
            frozenset(stem(words(w)[0]) for w in lists[key]) for key in keys)
        shared = subjects.get("shared") or []
        if not all(isinstance(p, str) and p.strip() for p in shared):
            raise ValueError("context.yaml: subjects.shared must be a list of phrases")
        self._shared = PhraseMatcher([(p, "shared") for p in shared], stem, rewrite)

    @classmethod
    def load(cls, stem: Callable[[str], str], rewrite: Mapping[str, str] | None = None,
             path: Path = DATA_FILE) -> "ContextRules":
        return cls(read_yaml(path, ValueError) or {}, stem, rewrite)

    def modifiers(self, stems: Sequence[str], sentence_of: Sequence[int], comma_after: Sequence[bool]) -> tuple[Modifier, ...]:
        """Every trigger's scope. `sentence_of[i]` numbers word i's sentence; `comma_after[i]`
        says a comma follows word i."""
        pseudo = self._pseudo.find(stems)
        in_pseudo = {i for m in pseudo for i in range(m.start, m.end)}
        stops = {m.start for m in self._terminations.find(stems)}
        # "...is that normal? I've got it right now": a sign it is happening now cancels every
        # hypothetical reading in the message.
        happening_now = bool(self._present.find(stems))
        # "I self-harmed as a teenager and the urges are back": what is back is not in the past;
        # "...and some days I still wish it had worked": nor is it long past.
        if self._returning.find(stems):
            cancelled = PAST
        else:
            cancelled = frozenset({"long_past"}) if self._not_over.find(stems) else frozenset()
        # "...the leaflet says call 999 if you have X. I have all of those now": what it lists is now.
        if self.applies_now(stems):
            cancelled |= {"quoted", "generic", "hypothetical"}
        found: list[Modifier] = []
        for match in self._triggers.find(stems):
            if match.start in in_pseudo:
                continue
            kind, direction = match.label.split(":")
            # A year or more ago is in the past, too.
            kinds = [k for k in ((kind, "historical") if kind == "long_past" else (kind,)) if k not in cancelled]
            if not kinds or (kind == "hypothetical" and happening_now):
                continue
            comma = kind in self.comma_ends
            if kind == "quoted":  # everything pasted after "copied from the leaflet:"
                # The scope includes the trigger: "from the NHS stroke page" names no symptom.
                found.append(Modifier(kind, (match.start, match.end), (match.start, min(len(stems), match.end + MAX_QUOTED))))
                continue
            sentence = sentence_of[match.start]
            if direction == "forward":
                start, end = match.end, self._forward(match.end, sentence, sentence_of, stops, comma_after, comma)
            else:
                start, end = self._backward(match.start, sentence, sentence_of, stops, comma_after, comma), match.start
            if end > start:
                found += [Modifier(k, (match.start, match.end), (start, end)) for k in kinds]
        if self.years_are_historical:
            found += [m for m in self._years(stems, sentence_of, comma_after, stops) if m.kind not in cancelled]
        return tuple(found + self._not_a_person(stems, sentence_of, comma_after))

    def _forward(self, start: int, sentence: int, sentence_of: Sequence[int], stops: set[int],
                 comma_after: Sequence[bool], comma: bool) -> int:
        """Where a scope from word `start` ends: at `max_scope` words, the sentence's end or a
        termination, or (`comma`) just after a word a comma follows."""
        end = start
        while end < len(sentence_of) and end - start < self.max_scope and sentence_of[end] == sentence and end not in stops:
            end += 1
            if comma and comma_after[end - 1]:
                break
        return end

    def _backward(self, end: int, sentence: int, sentence_of: Sequence[int], stops: set[int],
                  comma_after: Sequence[bool], comma: bool) -> int:
        """Where a scope running back from word `end` starts: as `_forward`, the other way."""
        start = end
        while (start > 0 and end - start < self.max_scope and sentence_of[start - 1] == sentence
               and start - 1 not in stops and not (comma and comma_after[start - 1])):
            start -= 1
        return start

    def _not_a_person(self, stems: Sequence[str], sentence_of: Sequence[int], comma_after: Sequence[bool]) -> list[Modifier]:
        """Symptoms whose subject is not a person, as in "my dog had a seizure": a clause that
        opens with an owner word, perhaps one describing word ("our old lab") and a listed
        animal or character, followed only by linking words up to the next word, which is where
        its symptom must start. "walked the dog had a seizure" (the dog is an object), "my wife
        and the dog fainted" and "allergic to cats, can't breathe" keep their symptom."""
        def opens_clause(j: int) -> bool:
            return j == 0 or sentence_of[j - 1] != sentence_of[j] or comma_after[j - 1] or stems[j - 1] in self._openers

        shared = self.shared_sentences(stems, sentence_of)
        found = []
        for i, word in enumerate(stems):
            if word not in self._not_people or comma_after[i] or sentence_of[i] in shared:
                continue
            start = i - 2 if i >= 2 and stems[i - 1] in self._describers else i - 1
            owned = (start >= 0 and stems[start] in self._owners and sentence_of[start] == sentence_of[i]
                     and not comma_after[start] and opens_clause(start))
            if not owned:
                continue
            end = i + 1
            while end < len(stems) and stems[end] in self._links and sentence_of[end] == sentence_of[i] and not comma_after[end]:
                end += 1
            if end < len(stems) and sentence_of[end] == sentence_of[i]:
                found.append(Modifier("not_a_person", (i, i + 1), (i + 1, end + 1)))
        return found

    def applies_now(self, stems: Sequence[str]) -> bool:
        """Does the message say that what it quotes or lists is happening now (`applies_now`)?"""
        return bool(self._applies_now.find(stems))

    def without_animals_and_characters(self, stems: Sequence[str]) -> tuple[str, ...]:
        """`stems` with every word of `not_people` and `either` blanked, positions kept."""
        return tuple("" if stem in self._not_people or stem in self._either else stem for stem in stems)

    def shared_sentences(self, stems: Sequence[str], sentence_of: Sequence[int]) -> frozenset[int]:
        """Sentences in which a person shares an animal's or a character's symptom: "the cat
        collapsed and then so did i"."""
        with_animal = {sentence_of[i] for i, stem in enumerate(stems) if stem in self._not_people}
        return frozenset(sentence_of[m.start] for m in self._shared.find(stems)) & with_animal

    def _years(self, stems: Sequence[str], sentence_of: Sequence[int], comma_after: Sequence[bool],
               stops: set[int]) -> list[Modifier]:
        """A past year ("a TIA in 2016") makes its sentence historical. One before last year makes
        its own clause long past (up to a comma or a termination), unless a word of
        `ongoing_since` comes before it: "I've been suicidal since 2020" is not over."""
        this_year = date.today().year
        found = []
        for i, word in enumerate(stems):
            if not (len(word) == 4 and word.isdigit() and 1940 <= int(word) < this_year):
                continue
            sentence = [j for j, s in enumerate(sentence_of) if s == sentence_of[i]]
            found.append(Modifier("historical", (i, i + 1), (sentence[0], sentence[-1] + 1)))
            if int(word) < this_year - 1 and not (i > 0 and stems[i - 1] in self._since):
                start = self._backward(i, sentence_of[i], sentence_of, stops, comma_after, True)
                end = i + 1 if comma_after[i] else self._forward(i + 1, sentence_of[i], sentence_of, stops, comma_after, True)
                found.append(Modifier("long_past", (i, i + 1), (start, end)))
        return found
