"""Find listed phrases in a run of words: one mechanism for every word list the bot reads.

Triage concepts, ConText triggers, text-speak and intent cues are all phrases a clinician or
content editor writes in a data file. A phrase is matched word by word against stems, so
"swollen lips" also finds "lips swelling"'s parts and "breathe" finds "breathing". A `*` in a
phrase stands for up to three words of anything, so "cant * breath" finds "can't get a
proper breath" and "can't catch my breath". A word written `=word` must appear exactly as
written, for the few words whose stem is shared with a harmless one ("=collapsed" is not the
noun "collapse"). A `#` stands for a count from 20 to 999 written in digits: "took # of my"
finds "took 30 of my" but not "took 2 of my" or "in 2015".
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Mapping, Sequence

from .analysis import words

GAP = "*"
EXACT = "="
COUNT = "#"
MAX_GAP = 3
MIN_COUNT = 20


@dataclass(frozen=True)
class Match:
    start: int  # first word
    end: int  # one past the last word
    label: str
    skipped: tuple[int, ...] = ()  # words a `*` passed over: not part of the phrase itself

    def own_words(self) -> range | list[int]:
        """Positions of the phrase's own words ("face * drooping": face, drooping)."""
        return [i for i in range(self.start, self.end) if i not in self.skipped] if self.skipped else range(self.start, self.end)


@dataclass(frozen=True)
class _Pattern:
    parts: tuple[str, ...]  # stems, GAP or COUNT
    label: str
    needs: frozenset[str]  # the stems (and `=` words) it cannot match without


class PhraseMatcher:
    """Phrases compiled once; `find` returns every (possibly overlapping) match."""

    def __init__(self, phrases: Iterable[tuple[str, str]], stem: Callable[[str], str],
                 rewrite: Mapping[str, str] | None = None) -> None:
        """`phrases` are (phrase, label) pairs, written as a patient would write them.

        `rewrite` is the text-speak table messages go through, so a phrase written "cannot
        breathe" is read exactly like a message that says "can't breathe".
        """
        rewrite = rewrite or {}
        self._by_first: dict[str, list[_Pattern]] = {}
        for phrase, label in phrases:
            read = [r for w in phrase_words(phrase) for r in (rewrite.get(w, w).split() if w not in (GAP, COUNT) and not
                                                                  w.startswith(EXACT) else [w])]
            parts = tuple(w if w in (GAP, COUNT) or w.startswith(EXACT) else stem(w) for w in read)
            parts = tuple(p for i, p in enumerate(parts) if not (p == GAP and (i == 0 or parts[i - 1] == GAP)))
            while parts and parts[-1] == GAP:
                parts = parts[:-1]
            if parts:
                key = parts[0][1:] if parts[0].startswith(EXACT) else parts[0]
                needs = frozenset(p[1:] if p.startswith(EXACT) else p for p in parts if p not in (GAP, COUNT))
                self._by_first.setdefault(key, []).append(_Pattern(parts, label, needs))
        for bucket in self._by_first.values():
            bucket.sort(key=lambda p: -len(p.parts))

    def __bool__(self) -> bool:
        return bool(self._by_first)

    def find(self, stems: Sequence[str], words: Sequence[str] | None = None) -> list[Match]:
        """Matches over a message's stems; `words` (the same positions, unstemmed) for `=word` parts."""
        words = stems if words is None else words
        # A phrase whose words are not all in the message cannot match anywhere in it: most
        # phrases that start with a common word ("a", "not", "my") are ruled out here, once.
        present = frozenset(stems).union(words)
        counts = self._by_first.get(COUNT, ())  # phrases that start with a count, if any
        at_counts = frozenset(i for i, s in enumerate(stems) if s[:1].isdigit() and is_count(s)) if counts else ()
        found: list[Match] = []
        for i in range(len(stems)):
            candidates = self._by_first.get(stems[i], [])
            if words[i] != stems[i]:
                candidates = [*candidates, *self._by_first.get(words[i], ())]
            if i in at_counts:
                candidates = [*candidates, *counts]
            for pattern in candidates:
                if not pattern.needs <= present:
                    continue
                matched = _match_from(pattern.parts, stems, words, i)
                if matched is not None:
                    found.append(Match(i, matched[0], pattern.label, matched[1]))
        return found


def _match_from(parts: tuple[str, ...], stems: Sequence[str], words: Sequence[str],
                start: int) -> tuple[int, tuple[int, ...]] | None:
    """End of the shortest match of `parts` at `start` and the words its gaps passed over, or
    None. Gaps are bounded, so cost is too."""

    def fits(part: str, position: int) -> bool:
        if position >= len(stems):
            return False
        if part == COUNT:
            return is_count(stems[position])
        return words[position] == part[1:] if part.startswith(EXACT) else stems[position] == part

    position = start
    index = 0
    skipped: list[int] = []
    while index < len(parts):
        part = parts[index]
        if part == GAP:
            following = parts[index + 1]
            for skip in range(MAX_GAP + 1):
                if fits(following, position + skip):
                    skipped += range(position, position + skip)
                    position += skip
                    break
            else:
                return None
            index += 1
            continue
        if not fits(part, position):
            return None
        position += 1
        index += 1
    return position, tuple(skipped)


def is_count(word: str) -> bool:
    """Digits only (not "2nd", not "²"), from MIN_COUNT to 999: four digits are a year ("in 2015")."""
    return word.isascii() and word.isdigit() and len(word) <= 3 and int(word) >= MIN_COUNT


def phrase_words(phrase: str) -> list[str]:
    """A data-file phrase split into words exactly as messages are, keeping `*` gaps and `#` counts."""
    return [w for chunk in phrase.split()
            for w in ([chunk] if chunk in (GAP, COUNT) else [EXACT + x for x in words(chunk[1:])] if chunk.startswith(EXACT)
                      else words(chunk))]
