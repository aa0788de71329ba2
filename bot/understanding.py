"""Stage 5: read a patient's message once, into one object every later stage shares.

Triage, intents and search all read the same `Message`: the words as typed and as read after
text-speak and spelling, their stems, sentences, ConText spans (negated, hypothetical, ...),
the search terms, the language, and an embedding. Nothing downstream re-reads the raw text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np
from symspellpy import SymSpell

from .analysis import TOKEN, Analyzer, fold, read_yaml
from .context import ContextRules, Modifier
from .embedding import Embedder
from .cache import NO_CACHE, Cache
from .spelling import SpellingCorrector, load_english, read_textspeak

DATA_DIR = Path(__file__).resolve().parent / "data"
SENTENCE_END = re.compile(r"[.!?;\n]|\s-\s|\s–\s")
MIN_FOREIGN_WORDS = 2


@dataclass(frozen=True)
class Models:
    """What understanding needs that never changes: loaded once per process, shared by corpora."""

    english: SymSpell
    embedder: Embedder

    @classmethod
    def load(cls, cache_dir: Path | None = None) -> "Models":
        return cls(load_english(cache_dir), Embedder())


@dataclass(frozen=True, eq=False)
class Message:
    typed: tuple[str, ...]  # folded words as typed
    words: tuple[str, ...]  # as read: text-speak expanded, misspellings corrected
    stems: tuple[str, ...]
    corrections: tuple[tuple[str, str], ...]
    sentence_of: tuple[int, ...]  # per word
    comma_after: tuple[bool, ...]  # per word
    modifiers: tuple[Modifier, ...]
    terms: tuple[str, ...]  # search terms
    cues: tuple[str, ...]  # section-cue terms (heading namespace)
    language: str  # "en", "es", or "other" when clearly not English
    vector: np.ndarray = field(repr=False)

    @property
    def text(self) -> str:
        return " ".join(self.words)

    def modified(self, start: int, end: int, not_triggers: frozenset[int] = frozenset()) -> frozenset[str]:
        """ConText kinds whose scope covers any word of [start, end).

        A trigger at a position in `not_triggers` does not count: the "not" of the symptom
        phrase "not breathing" is part of the symptom, not a denial of it.
        """
        return frozenset(m.kind for m in self.modifiers
                         if m.scope[0] < end and start < m.scope[1]
                         and (m.kind == "quoted" or m.trigger[0] not in not_triggers))

    def sentences(self) -> list[tuple[int, int]]:
        spans: list[tuple[int, int]] = []
        for i, s in enumerate(self.sentence_of):
            if spans and self.sentence_of[spans[-1][0]] == s:
                spans[-1] = (spans[-1][0], i + 1)
            else:
                spans.append((i, i + 1))
        return spans


class Understander:
    def __init__(self, analyzer: Analyzer, corrector: SpellingCorrector, context: ContextRules, embedder: Embedder,
                 languages: Mapping[str, Iterable[str]]) -> None:
        self.analyzer = analyzer
        self.corrector = corrector
        self.context = context
        self.embedder = embedder
        self._foreign = {lang: frozenset(words) for lang, words in languages.items()}

    @classmethod
    def create(cls, analyzer: Analyzer, word_counts: Mapping[str, int], models: Models,
               domain_words: Iterable[str] = (), cache: Cache = NO_CACHE) -> "Understander":
        """`domain_words` (the triage and intent files' words) are preferred corrections too."""
        textspeak = read_textspeak()
        counts = dict(word_counts)
        for word in domain_words:
            counts.setdefault(word, 1)
        languages = read_yaml(DATA_DIR / "languages.yaml", ValueError)["function_words"]
        # Another language's words are words, not typos: "hola" must not be mended into "cola".
        foreign = [word for words in languages.values() for word in words]
        corrector = SpellingCorrector(models.english, counts,
                                      protected=[*analyzer.stop_words, *analyzer.synonym_words, *foreign],
                                      textspeak=textspeak, cache=cache)
        context = ContextRules.load(analyzer.stem, textspeak)
        return cls(analyzer, corrector, context, models.embedder, languages)

    @property
    def rewrite(self) -> Mapping[str, str]:
        """The text-speak table, for data files whose phrases must be read like messages."""
        return self.corrector.textspeak

    def read(self, text: str) -> Message:
        typed, typed_sentences, typed_commas = split_words(text)
        language = self.language(typed)
        words: list[str] = []
        sentence_of: list[int] = []
        comma_after: list[bool] = []
        changes: list[tuple[str, str]] = []
        for word, sentence, comma in zip(typed, typed_sentences, typed_commas):
            fixed = self.corrector.correct(word) if language == "en" else word
            if fixed != word and not self.corrector.is_textspeak(word):
                changes.append((word, fixed))  # spelling fixes are told back; text-speak is not
            parts = fixed.split() or [word]
            words += parts
            sentence_of += [sentence] * len(parts)
            comma_after += [False] * (len(parts) - 1) + [comma]
        stems = tuple(self.analyzer.stem(w) for w in words)
        return Message(
            typed=tuple(typed), words=tuple(words), stems=stems, corrections=tuple(changes),
            sentence_of=tuple(sentence_of), comma_after=tuple(comma_after),
            modifiers=self.context.modifiers(stems, sentence_of, comma_after),
            terms=tuple(self.analyzer.terms_from_tokens(list(words))),
            cues=tuple(self.analyzer.cue_terms(list(words))),
            language=language,
            vector=self.embedder.embed_one(" ".join(words)),
        )

    def language(self, typed: list[str]) -> str:
        """'en', or another language when its function words clearly outnumber English ones."""
        english = sum(1 for w in typed if w in self.analyzer.stop_words)
        best, count = "en", 0
        for lang, function_words in self._foreign.items():
            n = sum(1 for w in typed if w in function_words)
            if n > count:
                best, count = lang, n
        if count >= MIN_FOREIGN_WORDS and count > english:
            return best
        return "en"


def split_words(text: str) -> tuple[list[str], list[int], list[bool]]:
    """Folded words with apostrophes dropped, each word's sentence number, and comma marks."""
    folded = fold(text)
    words: list[str] = []
    sentence_of: list[int] = []
    comma_after: list[bool] = []
    sentence = 0
    last_end = 0
    for match in TOKEN.finditer(folded):
        gap = folded[last_end:match.start()]
        if words and SENTENCE_END.search(gap):
            sentence += 1
        elif words and "," in gap:
            comma_after[-1] = True
        words.append(match.group().replace("'", ""))
        sentence_of.append(sentence)
        comma_after.append(False)
        last_end = match.end()
    return words, sentence_of, comma_after
