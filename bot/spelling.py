"""Spelling: fix what patients mistype, and never turn one real word into another.

Two dictionaries are consulted: symspellpy's English frequency list (82,765 words, shipped
inside its wheel) and the corpus's own words. Only a word that neither knows is corrected, so
"worse" can never become "worst", nor "month" become "mouth". Text-speak ("wat r u", "hrs")
is a reviewable list in bot/data/textspeak.txt, applied first. Cost is bounded for any input:
very long words are left alone, runs of a repeated letter are shortened, and symspellpy only
looks at a word's first seven letters when generating candidates.
"""
from __future__ import annotations

import re
from collections import defaultdict
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Mapping

from symspellpy import SymSpell, Verbosity

from .cache import NO_CACHE, Cache, code_version

DATA_DIR = Path(__file__).resolve().parent / "data"
PREFIX_LENGTH = 7
MIN_LENGTH = 5  # shorter unknown words are too ambiguous ("rahs": rash? rays?); "teh", "ur" go through text-speak
MAX_LENGTH = 24  # longer "words" are not mistyped English; correcting them only costs time
REPEATS = re.compile(r"(.)\1{2,}")  # a letter typed three or more times over


def load_english(cache_dir: Path | None = None) -> SymSpell:
    """symspellpy's English dictionary, from the file inside its wheel (about 3 s, 150 MB; a
    fraction of a second from the cache).

    Loaded once per process and shared by every corpus: it never changes.
    """
    def build() -> dict[str, Any]:
        english = new_dictionary()
        path = resources.files("symspellpy") / "frequency_dictionary_en_82_765.txt"
        with resources.as_file(path) as file:
            if not english.load_dictionary(str(file), term_index=0, count_index=1, encoding="utf-8"):
                raise RuntimeError(f"symspellpy's English dictionary is missing: {file}")
        return dictionary_state(english)

    # code_version() covers symspellpy's version too (cache.DERIVED_FROM).
    return from_state(Cache(cache_dir, code_version()).values("english-spelling", build, is_state))


def new_dictionary() -> SymSpell:
    return SymSpell(max_dictionary_edit_distance=2, prefix_length=PREFIX_LENGTH)


# A dictionary's built state, to cache: symspellpy has no public way to save it without pickle,
# so these read and restore its fields (which is why symspellpy is pinned below 7).
def dictionary_state(dictionary: SymSpell) -> dict[str, Any]:
    return {"words": dict(dictionary._words), "deletes": dict(dictionary._deletes),
            "max_length": dictionary._max_length}


def is_state(value: Any) -> bool:
    return (isinstance(value, dict) and isinstance(value.get("words"), dict) and isinstance(value.get("deletes"), dict)
            and isinstance(value.get("max_length"), int))


def from_state(state: Mapping[str, Any]) -> SymSpell:
    dictionary = new_dictionary()
    dictionary._words = dict(state["words"])
    dictionary._deletes = defaultdict(list, state["deletes"])
    dictionary._max_length = int(state["max_length"])
    return dictionary


def read_textspeak(path: Path = DATA_DIR / "textspeak.txt") -> dict[str, str]:
    """`wrong = right` lines: the abbreviations and habitual typos patients write."""
    table: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        wrong, sep, right = line.partition("=")
        if not sep or not wrong.strip() or not right.strip():
            raise ValueError(f"{path.name}, line {number}: expected 'wrong = right'")
        table[wrong.strip().lower()] = right.strip().lower()
    return table


class SpellingCorrector:
    def __init__(self, english: SymSpell, domain_counts: Mapping[str, int], protected: Iterable[str] = (),
                 textspeak: Mapping[str, str] | None = None, cache: Cache = NO_CACHE) -> None:
        self._english = english

        def build() -> dict[str, Any]:
            domain = new_dictionary()
            # Sorted: the words come from sets, and the saved dictionary must not depend on the hash seed.
            for word, count in sorted(domain_counts.items()):
                if word.isalpha() and len(word) >= MIN_LENGTH - 1:
                    domain.create_dictionary_entry(word, max(int(count), 1))
            return dictionary_state(domain)

        self._domain = from_state(cache.values("corpus-spelling", build, is_state))
        self._known = frozenset(domain_counts) | frozenset(protected)
        self._textspeak = dict(textspeak if textspeak is not None else read_textspeak())

    @property
    def textspeak(self) -> Mapping[str, str]:
        return self._textspeak

    def is_textspeak(self, word: str) -> bool:
        return word in self._textspeak

    def is_domain_word(self, word: str) -> bool:
        """Used by the clinic's documents or the bot's own word lists (not just any English word)."""
        return word in self._known

    def is_known(self, word: str) -> bool:
        return word in self._known or word in self._english.words

    def correct(self, word: str) -> str:
        """The word as the patient most likely meant it; unchanged unless it is unknown."""
        if word in self._textspeak:
            return self._textspeak[word]
        if self.is_known(word) or not word.isalpha() or not MIN_LENGTH - 1 <= len(word) <= MAX_LENGTH:
            return word
        if len(word) == MIN_LENGTH - 1:
            # Four letters ("chst", "stif", "pian") are only mended into the clinic's and the
            # data files' own words, one edit away, and only when exactly one word fits.
            found = self._domain.lookup(word, Verbosity.ALL, max_edit_distance=1)
            return found[0].term if len(found) == 1 else word
        # "cooool" is "cool", "sooooore" is "sore": try the run as two letters, then as one.
        for shortened in (REPEATS.sub(r"\1\1", word), REPEATS.sub(r"\1", word)):
            if shortened != word and self.is_known(shortened):
                return shortened
        shortened = REPEATS.sub(r"\1\1", word)
        if len(shortened) < MIN_LENGTH:
            return word
        limit = 1 if len(shortened) < 8 else 2
        # Closest first; at equal distance the corpus's own word wins ("hedache" is the
        # documents' "headache"), then the more frequent word, then the first alphabetically:
        # every tie is broken here, so a restart (a new hash seed) never changes a correction.
        candidates = [(s.distance, rank, -s.count, s.term)
                      for rank, dictionary in enumerate((self._domain, self._english))
                      for s in dictionary.lookup(shortened, Verbosity.CLOSEST, max_edit_distance=limit)]
        return min(candidates)[3] if candidates else word
