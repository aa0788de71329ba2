"""Triage: does this message describe a possible emergency happening now?

It runs first on every message and nothing else can switch it off. Three nets, all read from
data files a clinician can review and change:
1. rules over concept word lists (bot/data/triage.yaml), with ConText deciding whether a
   mention is negated, hypothetical, long past, generic, quoted (a pasted leaflet) or figurative;
2. a semantic net: closeness of the message's sentences to the file's emergency examples;
3. a learned second opinion (bot/data/triage_examples.jsonl) that raises an alarm no rule saw
   (only for a message with a word that names something), or clears a rule's alarm only when the
   symptom's own words read as harmless too and the message is long enough to say why.
"""
from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import numpy as np
from .analysis import read_yaml
from .cache import NO_CACHE, Cache
from .context import KINDS
from .learning import StemClassifier
from .phrases import Match, PhraseMatcher, phrase_words
from .understanding import Message, Understander

DATA_FILE = Path(__file__).resolve().parent / "data" / "triage.yaml"
EXAMPLES_FILE = Path(__file__).resolve().parent / "data" / "triage_examples.jsonl"
BENIGN = "benign"
# Regularisation of the learned net, chosen by cross-validation on the examples (BENCHMARKS.md).
LEARNED_C = 64.0
NEAR_WORDS = 8  # the words either side of a rule's match that must also read as harmless to clear it
SEVERITIES = ("emergency", "care_team_today")
# Tuned on the tune half of tests/data/eval/triage.*.jsonl (see BENCHMARKS.md).
SEMANTIC_THRESHOLD = 0.70
SEMANTIC_MARGIN = 0.05


class TriageError(ValueError):
    """triage.yaml is not usable; the message says where."""


@dataclass(frozen=True)
class Category:
    name: str
    severity: str
    explained_away_by: frozenset[str]
    rules: tuple[tuple[str, ...], ...]
    window: int | None  # words within which a rule's concepts must appear; None: the file's default
    search_hint: str = ""  # words added to the search so the documents' own safety advice follows
    # May the learned net overrule a rule that fired? A set of concepts: only a rule made of
    # those (self-harm's indirect signs, "wont be around", which logistics share) may be.
    learned_can_clear: bool | frozenset[str] = True
    # When no alarm stands ("I self-harmed as a teenager", "I'm not suicidal"), the reply
    # still carries the crisis line, unless ConText reads the mention as one of these kinds (a
    # figure of speech). None: no such note for this category.
    support_note_unless: frozenset[str] | None = None

    def clearable(self, rule: tuple[str, ...] | None) -> bool:
        """May the learned net clear this alarm? `rule` is the rule that fired (None: the semantic net)."""
        if isinstance(self.learned_can_clear, bool):
            return self.learned_can_clear
        return rule is not None and set(rule) <= self.learned_can_clear


@dataclass(frozen=True)
class Urgency:
    category: str
    severity: str
    how: str  # "rule" or "semantic": which net caught it (for metrics and review, never shown)
    search_hint: str = ""


@dataclass(frozen=True)
class Fired:
    """A rule that fired: its alarm, the words [start, end) its mentions cover, and the rule."""
    urgency: Urgency
    start: int
    end: int
    rule: tuple[str, ...]


@dataclass(frozen=True)
class Verdict:
    """Triage's reading of one message: the alarm, if any, and, when there is none, whether the
    reply should still carry the crisis line (a category's `support_note_unless`)."""
    urgency: Urgency | None
    support: bool = False


class LearnedNet:
    """A second opinion learned from labelled messages (bot/data/triage_examples.jsonl). It reads
    the words around a symptom ("last year", "the leaflet says", "and now she won't wake") that
    no word list anticipates."""

    def __init__(self, classifier: StemClassifier) -> None:
        self._classifier = classifier
        self._benign = classifier.classes.index(BENIGN)

    @classmethod
    def train(cls, examples: Path, categories: set[str], understander: Understander, cache: Cache) -> "LearnedNet":
        """Fitted on the examples as the understander reads them, or loaded as fitted before (the
        cache key covers the examples file, so a loaded net was checked when it was fitted)."""
        def fit() -> dict[str, np.ndarray]:
            pairs = read_examples(examples)
            labels = [label for _, label in pairs]
            if BENIGN not in labels or len(set(labels)) < 2:
                raise TriageError("triage_examples.jsonl needs both emergencies and benign messages")
            unknown = set(labels) - categories - {BENIGN}
            if unknown:
                raise TriageError(f"triage_examples.jsonl: unknown categories {', '.join(sorted(unknown))}")
            return StemClassifier.fit([understander.read(text).stems for text, _ in pairs], labels, LEARNED_C).arrays()

        arrays = cache.arrays("triage-net", fit, lambda a: StemClassifier.valid(a) and BENIGN in a["classes"].tolist())
        return cls(StemClassifier.from_arrays(arrays))

    def assess(self, stems: Sequence[str]) -> tuple[float, str]:
        """(probability that this is an emergency, the likeliest emergency category)."""
        p = self._classifier.probabilities(stems)
        urgent = 1.0 - float(p[self._benign])
        p[self._benign] = -1.0
        return urgent, self._classifier.classes[int(p.argmax())]


def read_examples(path: Path) -> list[tuple[str, str]]:
    """(message, category or "benign") pairs; raises TriageError naming a bad line."""
    pairs = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise TriageError(f"{path.name}: cannot be read ({type(error).__name__})") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            message, urgent, category = row["message"], row["urgent"], row.get("category")
            if not isinstance(message, str) or not isinstance(urgent, bool) or (urgent and not isinstance(category, str)):
                raise ValueError
        except (ValueError, KeyError, TypeError):
            raise TriageError(f"{path.name}, line {number}: needs \"message\", \"urgent\" and, when urgent, \"category\"") from None
        pairs.append((message, category if urgent else BENIGN))
    return pairs


class Triage:
    def __init__(self, data: Mapping[str, Any], understander: Understander,
                 examples: Path = EXAMPLES_FILE, cache: Cache = NO_CACHE) -> None:
        self.categories, concepts = validate(data)
        stem, rewrite = understander.analyzer.stem, understander.rewrite
        self.window = int(data.get("window", 12))
        self._concepts = PhraseMatcher([(p, name) for name, phrases in concepts.items() for p in phrases], stem, rewrite)
        self._ignore = PhraseMatcher([(p, "ignore") for p in data.get("ignore", ())], stem, rewrite)
        self._symptoms = PhraseMatcher([(p, "symptom") for p in data.get("symptom_words", ())], stem, rewrite)
        self._embedder = understander.embedder
        self._context = understander.context
        self._examples, self._example_category = self._embed_examples(data["categories"], "examples")
        self._benign, _ = self._embed_examples(data["categories"], "benign_examples")
        self._learned = LearnedNet.train(examples, {c.name for c in self.categories}, understander, cache)
        learned = data.get("learned") or {}
        self.clear_below = float(learned.get("clear_below", 0.0))
        self.clear_near_below = float(learned.get("clear_near_below", self.clear_below))
        self.settled_clear_below = float(learned.get("settled_clear_below", self.clear_below))
        self.settled_clear_near_below = float(learned.get("settled_clear_near_below", self.clear_near_below))
        self._now_words = PhraseMatcher([(p, "now") for p in learned.get("now_words", ())], stem, rewrite)
        self.alert_above = float(learned.get("alert_above", 1.01))
        self.alert_above_long = float(learned.get("alert_above_long", self.alert_above))
        self.long_words = int(learned.get("long_words", 0))
        self.clear_min_words = int(learned.get("clear_min_words", 0))
        self._breaks = PhraseMatcher([(p, "break") for p in learned.get("clause_breaks", ())], stem, rewrite)
        self._settings = PhraseMatcher([(p, "setting") for p in learned.get("setting_starts", ())], stem, rewrite)

    @classmethod
    def load(cls, understander: Understander, path: Path = DATA_FILE, examples: Path = EXAMPLES_FILE,
             cache: Cache = NO_CACHE) -> "Triage":
        return cls(read_yaml(path, TriageError, cache.directory), understander, examples, cache)

    def _embed_examples(self, categories: Mapping[str, Any], key: str) -> tuple[np.ndarray, list[str]]:
        texts, labels = [], []
        for name, spec in categories.items():
            for example in spec.get(key) or ():
                texts.append(str(example))
                labels.append(name)
        vectors = self._embedder.embed(texts) if texts else np.zeros((0, self._embedder.dimensions), np.float32)
        return vectors, labels

    # -- detection -------------------------------------------------------------------------
    def assess(self, message: Message) -> Urgency | None:
        return self.judge(message).urgency

    def judge(self, message: Message) -> Verdict:
        """The alarm (see `_urgency`) and, without one, whether the crisis line is still offered."""
        mentions = self._mentions(message)
        urgency = self._urgency(message, mentions)
        return Verdict(urgency, urgency is None and self._supports(message, mentions))

    def _urgency(self, message: Message, mentions: Mapping[str, list[Match]]) -> Urgency | None:
        """Rules first; the learned net may clear a rule's alarm when it is confident the message
        is harmless (never where the category's `learned_can_clear` forbids it, nor for a message
        shorter than `clear_min_words`, nor one saying what it quotes is happening now
        (`applies_now`), nor when a person shares the symptom ("so did I"), nor
        unless the symptom's surroundings and its own clause read as harmless too), and raises
        one itself when it is confident of an emergency no rule saw in a message with a content
        word."""
        fired = self._rules(message, mentions)
        first = next(fired, None)
        if first is not None and self._context.applies_now(message.stems):
            return first.urgency  # "...I have all of those now": the leaflet's words explain nothing away
        # Whose symptom it is, ConText's reviewed subject rules decide (not_a_person). To clear a
        # rule's alarm the net reads the message without their animal and character words, whose
        # weights it learned from pets' look-alikes: "my daughter dressed as a cat just collapsed".
        stems = self._context.without_animals_and_characters(message.stems) if first is not None else message.stems
        chance, category = self._learned.assess(stems)
        if first is not None:
            # Every rule that fires must be cleared: clearing "can you overdose on IVIG?" must not
            # hide the "my throat feels tight" after it. Later rules are read only if needed.
            for found in itertools.chain([first], fired):
                if not self._clears(message, stems, chance, found):
                    return found.urgency
            return None
        raised = self.by_meaning(message)
        if raised is not None:
            if (chance >= self.clear_below or not self._category(raised.category).clearable(None)
                    or self._context.applies_now(message.stems)):
                return raised
            return None
        # Alone, the net needs a word that names something: a message of nothing but "and?"
        # or "so then?" scores on function words that emergencies happen to be written with.
        line = self.alert_above_long if len(message.stems) >= self.long_words else self.alert_above
        if chance >= line and message.terms:
            found_category = self._category(category)
            return Urgency(found_category.name, found_category.severity, "learned", found_category.search_hint)
        return None

    def _clears(self, message: Message, stems: Sequence[str], chance: float, found: Fired) -> bool:
        """May the learned net clear this rule's alarm? Only when the category allows it for this
        rule, the message is long enough to explain the symptom away, no person shares it, and
        the net reads as harmless the whole message (`chance`, below `clear_below`), and the words
        around the symptom and the symptom's own clause (below `clear_near_below`). In a message
        of `long_words` or more, a symptom whose sentence has none of `now_words` is held to the
        `settled_` lines instead, except for its own clause."""
        whole, near_line = ((self.settled_clear_below, self.settled_clear_near_below) if self._settled(message, found)
                            else (self.clear_below, self.clear_near_below))
        if chance >= whole or not self._category(found.urgency.category).clearable(found.rule):
            return False
        if len(message.stems) < self.clear_min_words:
            return False  # too short to hold anything that explains the symptom away
        if self._context.shared_sentences(message.stems, message.sentence_of) & {
                message.sentence_of[i] for i in range(found.start, found.end)}:
            return False  # "the cat collapsed and then so did i": a person has it too
        # A long message about parking and insurance must not dilute "and I can't breathe".
        near = stems[max(0, found.start - NEAR_WORDS):found.end + NEAR_WORDS]
        if self._learned.assess(near)[0] >= near_line:
            return False
        # ...and the symptom's own clause must read as harmless without the setting around it
        # ("playing a game"). A clause from the message's start to the near window's end sets
        # nothing aside. Like the near window, it is a few words read by a net that learned from
        # whole messages, so it is held to the same line.
        first, last = self._clause(message, found.start, found.end)
        sets_aside = first > 0 or last < found.end + NEAR_WORDS
        return not (sets_aside and self._learned.assess(stems[first:last])[0] >= self.clear_near_below)

    def _settled(self, message: Message, found: Fired) -> bool:
        """A long message in which nothing in the symptom's sentence says it is now ("just",
        "tonight"): more often something over, or someone else's, than happening as they write."""
        if len(message.stems) < self.long_words:
            return False
        now = {message.sentence_of[m.start] for m in self._now_words.find(message.stems, message.words)}
        return not now & {message.sentence_of[i] for i in range(found.start, found.end)}

    def _clause(self, message: Message, start: int, end: int) -> tuple[int, int]:
        """The clause holding the symptom at words [start, end): from after the first word of the
        last clause break or comma before it in its sentence (else the sentence's start), to the
        first word that opens a setting after it in its sentence ("while") or NEAR_WORDS past it."""
        sentence = message.sentence_of[start]
        breaks = {m.start for m in self._breaks.find(message.stems, message.words)}
        first = start
        while (first > 0 and message.sentence_of[first - 1] == sentence and first - 1 not in breaks
               and not message.comma_after[first - 1]):
            first -= 1
        settings = [m.start for m in self._settings.find(message.stems, message.words)
                    if m.start >= end and message.sentence_of[m.start] == sentence]
        return first, min([end + NEAR_WORDS, *settings])

    def _category(self, name: str) -> Category:
        return next(c for c in self.categories if c.name == name)

    def _mentions(self, message: Message) -> dict[str, list[Match]]:
        """Each concept's mentions, leaving out the words of `ignore` phrases ("stroke of luck")."""
        ignored = {i for m in self._ignore.find(message.stems, message.words) for i in range(m.start, m.end)}
        mentions: dict[str, list[Match]] = {}
        for match in self._concepts.find(message.stems, message.words):
            if not ignored.intersection(range(match.start, match.end)):
                mentions.setdefault(match.label, []).append(match)
        return mentions

    def _rules(self, message: Message, mentions: Mapping[str, list[Match]]) -> Iterator[Fired]:
        """Every rule that fires, in the file's order (categories, then their rules), found as
        they are asked for; the first of a category's rules that fires stands for it."""
        for category in self.categories:
            for rule in category.rules:
                found = self._fire(message, mentions, category, rule, category.explained_away_by)
                if found is not None:
                    yield found
                    # A clearable rule does not stand for its category: a stricter one may fire too.
                    if not category.clearable(rule) or category.learned_can_clear is True:
                        break

    def _fire(self, message: Message, mentions: Mapping[str, list[Match]], category: Category,
              rule: tuple[str, ...], explained_away_by: frozenset[str]) -> Fired | None:
        """The rule's alarm, if all its concepts have mentions that no kind in
        `explained_away_by` modifies, close enough together."""
        # The rule's own phrases' words ("no urine", "not breathing") are not ConText
        # triggers; words a gap passed over are ("face isn't drooping" matched "face *
        # drooping"), and so are other concepts' words ("used to" is past, not "used").
        own = frozenset(i for concept in rule for m in mentions.get(concept, ()) for i in m.own_words())
        standing = [[m for m in mentions.get(concept, ()) if not message.modified(m.start, m.end, own) & explained_away_by]
                    for concept in rule]
        if not (all(standing) and self._close_together(standing, category.window or self.window)):
            return None
        start = min(m.start for group in standing for m in group)
        end = max(m.end for group in standing for m in group)
        return Fired(Urgency(category.name, category.severity, "rule", category.search_hint), start, end, rule)

    def _supports(self, message: Message, mentions: Mapping[str, list[Match]]) -> bool:
        """No alarm stands, but a category with a support note was mentioned in words that are
        not explained away as its `support_note_unless` kinds. Only rules the learned net may
        not clear count: an indirect sign ("razor", "overdose", "saying goodbye") is in too
        many ordinary messages ("I don't have a razor for the shave before my port goes in")."""
        return any(self._fire(message, mentions, category, rule, category.support_note_unless) is not None
                   for category in self.categories if category.support_note_unless is not None
                   for rule in category.rules if not category.clearable(rule))

    @staticmethod
    def _close_together(standing: list[list[Match]], window: int) -> bool:
        """Some choice of one mention per concept fits in the window (checked per anchor)."""
        for anchor in standing[0]:
            if all(any(abs(m.start - anchor.start) <= window for m in group) for group in standing[1:]):
                return True
        return False

    def by_meaning(self, message: Message) -> Urgency | None:
        """Sentences close in meaning to an emergency example, and closer to it than to any benign one."""
        if not len(self._examples) or not message.words:
            return None
        spans = message.sentences()
        texts = [" ".join(message.words[a:b]) for a, b in spans
                 if not message.modified(a, b) & {"negated", "hypothetical", "generic", "quoted"}]
        if not texts:
            return None
        vectors = self._embedder.embed(texts) if len(spans) > 1 else message.vector[None, :]
        similarity = vectors @ self._examples.T
        benign = (vectors @ self._benign.T).max(axis=1) if len(self._benign) else np.full(len(vectors), -1.0)
        row, column = np.unravel_index(int(similarity.argmax()), similarity.shape)
        best = float(similarity[row, column])
        if best >= SEMANTIC_THRESHOLD and best >= float(benign[row]) + SEMANTIC_MARGIN:
            category = next(c for c in self.categories if c.name == self._example_category[column])
            return Urgency(category.name, category.severity, "semantic", category.search_hint)
        return None

    def mentions_symptom(self, message: Message) -> bool:
        """Does the message talk about feeling unwell at all (whatever ConText says)?"""
        return bool(self._symptoms.find(message.stems, message.words))


def vocabulary(path: Path = DATA_FILE, cache_dir: Path | None = None) -> set[str]:
    """Every word the triage file uses, so spelling correction can reach them ("sezure")."""
    data = read_yaml(path, TriageError, cache_dir) or {}
    phrases = [p for group in (data.get("concepts") or {}).values() for p in group or ()]
    phrases += [e for spec in (data.get("categories") or {}).values() for key in ("examples", "benign_examples")
                for e in (spec or {}).get(key) or ()]
    return {w for p in phrases for w in phrase_words(str(p)) if w.isalpha()}


def validate(data: Any) -> tuple[tuple[Category, ...], dict[str, list[str]]]:
    """Categories in order, and concepts; raises TriageError naming every problem at once."""
    if not isinstance(data, dict) or not isinstance(data.get("concepts"), dict) or not isinstance(data.get("categories"), dict):
        raise TriageError("triage.yaml needs a `concepts` mapping and a `categories` mapping")
    problems: list[str] = []
    concepts: dict[str, list[str]] = {}
    for name, phrases in data["concepts"].items():
        if not isinstance(phrases, list) or not phrases or not all(isinstance(p, str) and p.strip() for p in phrases):
            problems.append(f"concept {name!r}: needs a list of phrases")
        else:
            concepts[str(name)] = phrases
    learned = data.get("learned") or {}
    if not isinstance(learned, dict):
        problems.append("learned: must be a mapping")
    else:
        for key, low, high in (("clear_below", 0.0, 1.0), ("clear_near_below", 0.0, 1.0), ("settled_clear_below", 0.0, 1.0),
                               ("settled_clear_near_below", 0.0, 1.0), ("alert_above", 0.0, 1.01),
                               ("alert_above_long", 0.0, 1.01), ("clear_min_words", 0, 1000), ("long_words", 0, 1000)):
            value = learned.get(key, low)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
                problems.append(f"learned.{key}: must be a number from {low} to {high}")
        for key in ("clause_breaks", "setting_starts", "now_words"):
            phrases = learned.get(key, [])
            if not isinstance(phrases, list) or not all(isinstance(p, str) and p.strip() for p in phrases):
                problems.append(f"learned.{key}: must be a list of phrases")
    categories: list[Category] = []
    for name, spec in data["categories"].items():
        where = f"category {name!r}"
        if not isinstance(spec, dict):
            problems.append(f"{where}: must be a mapping")
            continue
        severity = spec.get("severity")
        if severity not in SEVERITIES:
            problems.append(f"{where}: severity must be one of {', '.join(SEVERITIES)}")
        kinds = spec.get("explained_away_by") or []
        if not isinstance(kinds, list) or any(k not in KINDS for k in kinds):
            problems.append(f"{where}: explained_away_by may only list {', '.join(KINDS)}")
            kinds = []
        rules = spec.get("rules")
        if not isinstance(rules, list) or not rules or not all(isinstance(r, list) and r for r in rules):
            problems.append(f"{where}: rules must be a list of concept lists")
            rules = []
        for rule in rules:
            for concept in rule:
                if concept not in concepts:
                    problems.append(f"{where}: rule names unknown concept {concept!r}")
        for key in ("examples", "benign_examples"):
            if not isinstance(spec.get(key) or [], list):
                problems.append(f"{where}: {key} must be a list of sentences")
        window = spec.get("window")
        if window is not None and (not isinstance(window, int) or window < 1):
            problems.append(f"{where}: window must be a whole number of words")
            window = None
        hint = spec.get("search_hint") or ""
        if not isinstance(hint, str):
            problems.append(f"{where}: search_hint must be text")
            hint = ""
        can_clear = spec.get("learned_can_clear", True)
        if isinstance(can_clear, list) and all(isinstance(c, str) for c in can_clear):
            problems += [f"{where}: learned_can_clear names unknown concept {c!r}" for c in can_clear if c not in concepts]
            can_clear = frozenset(can_clear)
        elif not isinstance(can_clear, bool):
            problems.append(f"{where}: learned_can_clear must be true, false or a list of concepts")
            can_clear = True
        note = spec.get("support_note_unless")
        if note is not None and (not isinstance(note, list) or any(k not in KINDS for k in note)):
            problems.append(f"{where}: support_note_unless may only list {', '.join(KINDS)}")
            note = None
        categories.append(Category(str(name), str(severity), frozenset(kinds), tuple(tuple(r) for r in rules), window, hint,
                                   can_clear, None if note is None else frozenset(note)))
    if problems:
        raise TriageError("triage.yaml: " + "; ".join(problems))
    return tuple(categories), concepts
