"""Stage 3: turn text into the terms the index matches on.

Pipeline: tokenize -> lower-case -> stem -> fold synonym phrases into one term -> drop stop
words. (Messages are read and spelling-corrected first, in understanding.py.) Only NLTK parts
that need no downloaded data are used (Snowball); the word lists ship in bot/data and the
clinic's synonyms file.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable

import yaml

from nltk.stem.snowball import SnowballStemmer

from .cache import Cache, code_version
from .files import DEFAULT_MAX_BYTES, FileRefused, read_limited

DATA_DIR = Path(__file__).resolve().parent / "data"
TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
HEADING_PREFIX = "h:"  # heading terms live in their own namespace for section cues
STEM_CACHE_SIZE = 200_000
APOSTROPHE_COLLISIONS = frozenset({"ill", "id", "wed", "well", "hell", "shell", "were", "shed", "wont", "cant"})  # comfortably more than a 5,000-document library's vocabulary


def read_yaml(path: Path, error: type[Exception], cache_dir: Path | None = None) -> Any:
    """A clinician-edited YAML data file; a syntax error becomes `error`, naming the file.

    The bot's own files (bot/data) are kept parsed in `cache_dir` when given: triage.yaml alone
    takes a quarter of a second to parse, and start-up reads it twice.
    """
    def parse() -> Any:
        try:
            # libyaml's safe loader when PyYAML was built with it: the same result, sooner.
            return yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as problem:
            raise error(f"{path.name}: cannot be read as YAML ({problem})") from None

    if cache_dir is None or path.resolve().parent != DATA_DIR:
        return parse()
    return Cache(cache_dir, code_version()).values(f"data-{path.stem}", parse)  # the key covers bot/data


def read_word_list(path: Path) -> list[str]:
    """Non-comment lines of a shipped word list, split on whitespace."""
    words: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.lstrip().startswith("#"):
            words.extend(line.split())
    return words


def fold(text: str) -> str:
    """Lower case, curly quotes straightened, accents dropped ("está" -> "esta")."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    if text.isascii():
        return text
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """Folded word tokens with apostrophes dropped ("can't" -> "cant"): how messages are read."""
    return [t.replace("'", "") for t in TOKEN.findall(fold(text))]


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens; curly apostrophes and possessive 's are normalised away."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    return [t[:-2] if t.endswith("'s") else t for t in TOKEN.findall(text)]


class SynonymsError(ValueError):
    """The synonyms file has a line that cannot be used."""


@dataclass(frozen=True)
class PhraseRule:
    """A run of stems that is replaced by one term (a synonym group or a section cue)."""

    stems: tuple[str, ...]
    term: str


def parse_synonyms(text: str, source: str = "synonyms") -> list[list[str]]:
    """Groups of phrases, one group per non-comment line: `main, variant, variant`."""
    groups = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        phrases = [p.strip() for p in line.split(",") if p.strip()]
        if len(phrases) < 2:
            raise SynonymsError(f"{source}, line {number}: a synonym line needs at least two terms separated by commas")
        groups.append(phrases)
    return groups


def parse_section_cues(text: str) -> list[tuple[list[str], list[str]]]:
    """Pairs of (heading words, cue phrases) from `heading words = cue, cue`."""
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            heading, cues = line.split("=", 1)
            pairs.append((heading.split(), [c.strip() for c in cues.split(",") if c.strip()]))
    return pairs


class Analyzer:
    """Text analysis shared by indexing and querying, so both sides agree on every term."""

    def __init__(self, synonym_groups: Iterable[list[str]] = (), stop_words: Iterable[str] | None = None,
                 section_cues: Iterable[tuple[list[str], list[str]]] | None = None) -> None:
        # Bounded: queries bring arbitrary words, and a server runs for weeks.
        self.stem: Callable[[str], str] = lru_cache(maxsize=STEM_CACHE_SIZE)(SnowballStemmer("english").stem)
        words = stop_words if stop_words is not None else read_word_list(DATA_DIR / "stopwords.txt")
        # Messages are read without apostrophes ("don't" -> "dont"), so both spellings are stop
        # words, except where dropping it makes another word ("i'll" is not "ill").
        self.stop_words = frozenset(words) | {w.replace("'", "") for w in words
                                               if "'" in w and w.replace("'", "") not in APOSTROPHE_COLLISIONS}
        self._stop_stems = frozenset(self.stem(w) for w in self.stop_words)
        synonym_rules, self.synonym_words = self._synonym_rules(synonym_groups)
        self._synonyms = self._compile(synonym_rules)
        cues = section_cues if section_cues is not None else parse_section_cues(
            (DATA_DIR / "section_cues.txt").read_text(encoding="utf-8"))
        self._cues = self._compile(self._cue_rules(cues))

    @classmethod
    def from_files(cls, synonyms_file: Path | None, max_bytes: int = DEFAULT_MAX_BYTES) -> "Analyzer":
        groups: list[list[str]] = []
        if synonyms_file is not None:
            try:
                text = read_limited(synonyms_file, max_bytes).decode("utf-8")
            except FileRefused as error:
                raise SynonymsError(str(error)) from None
            except (OSError, UnicodeDecodeError) as error:
                raise SynonymsError(f"{synonyms_file}: cannot be read as UTF-8 text ({error.__class__.__name__})") from None
            groups = parse_synonyms(text, source=synonyms_file.name)
        return cls(groups)

    # -- building blocks -------------------------------------------------------------------
    def _synonym_rules(self, groups: Iterable[list[str]]) -> tuple[list[PhraseRule], frozenset[str]]:
        """One rule per phrase, mapping to its group's main term; and every word the groups use."""
        rules, words = [], set()
        for group in groups:
            main = "_".join(self.stem(t) for t in tokenize(group[0]))
            for phrase in group:
                tokens = tokenize(phrase)
                words.update(tokens)
                if tokens:
                    rules.append(PhraseRule(tuple(self.stem(t) for t in tokens), main))
        return rules, frozenset(words)

    def _cue_rules(self, cues: Iterable[tuple[list[str], list[str]]]) -> list[PhraseRule]:
        rules = []
        for heading_words, phrases in cues:
            for word in heading_words:
                for phrase in phrases:
                    rules.append(PhraseRule(tuple(self.stem(t) for t in tokenize(phrase)), self.heading_term(word)))
        return rules

    @staticmethod
    def _compile(rules: list[PhraseRule]) -> dict[str, list[PhraseRule]]:
        """Rules by first stem, longest first, so 'chronic fatigue syndrome' beats 'chronic fatigue'."""
        by_first: dict[str, list[PhraseRule]] = {}
        for rule in rules:
            by_first.setdefault(rule.stems[0], []).append(rule)
        for bucket in by_first.values():
            bucket.sort(key=lambda r: -len(r.stems))
        return by_first

    def heading_term(self, word: str) -> str:
        return HEADING_PREFIX + self.stem(word.lower())

    # -- analysis --------------------------------------------------------------------------
    def terms(self, text: str) -> list[str]:
        """Index terms for document text (documents are trusted: no spelling correction)."""
        return self.terms_from_tokens(tokenize(text))

    def terms_from_tokens(self, tokens: list[str]) -> list[str]:
        stems = [self.stem(t) for t in tokens]
        out: list[str] = []
        i = 0
        while i < len(stems):
            rule = self._match(self._synonyms, stems, i)
            if rule is not None:
                out.append(rule.term)
                i += len(rule.stems)
                continue
            if tokens[i] not in self.stop_words and stems[i] not in self._stop_stems:
                out.append(stems[i])
            i += 1
        return out

    def heading_terms(self, heading: str) -> list[str]:
        """Terms of a section heading in the heading namespace, each once.

        Both each word's own stem and its one-word synonym's main term are kept, so a cue
        matches the heading "Drip times" whether it names "drip" or "infusion".
        """
        return sorted({HEADING_PREFIX + t for t in self.terms(heading) if "_" not in t} |
                      {self.heading_term(w) for w in tokenize(heading) if w not in self.stop_words})

    def cue_terms(self, tokens: list[str]) -> list[str]:
        """Heading-namespace terms for the section cues a question contains, each once."""
        stems = [self.stem(t) for t in tokens]
        found: list[str] = []
        for i in range(len(stems)):
            for rule in self._cues.get(stems[i], ()):
                if tuple(stems[i:i + len(rule.stems)]) == rule.stems and rule.term not in found:
                    found.append(rule.term)
        return found

    @staticmethod
    def _match(rules: dict[str, list[PhraseRule]], stems: list[str], i: int) -> PhraseRule | None:
        for rule in rules.get(stems[i], ()):
            if tuple(stems[i:i + len(rule.stems)]) == rule.stems:
                return rule
        return None
