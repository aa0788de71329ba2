"""Text analysis: patients' words, abbreviations and misspellings meet the documents' words."""
from __future__ import annotations

from collections import Counter

import pytest

from bot.analysis import Analyzer, SynonymsError, parse_synonyms, tokenize
from bot.spelling import SpellingCorrector


def test_tokenize_lowercases_and_splits_abbreviations():
    assert tokenize("IVIG’s ME/CFS IgG1 auto-immune") == ["ivig", "me", "cfs", "igg1", "auto", "immune"]


def test_stop_words_dropped_and_words_stemmed(searcher):
    assert searcher.analyzer.terms("What are the headaches like after infusions?") == ["headach", "infus"]


@pytest.mark.parametrize("lay, document_words", [
    ("IVG", "IVIG"), ("IV Ig", "intravenous immunoglobulins"), ("immune globulin", "immunoglobulin"), ("IgG", "IVIGs"),
    ("throw up", "vomiting"), ("heart racing", "fast heartbeat"), ("shot", "injection"), ("drip", "infusion"),
    ("price", "cost"), ("afford", "expensive"), ("CFS", "chronic fatigue syndrome"), ("ME/CFS", "chronic fatigue syndrome"),
    ("FM", "fibromyalgia"), ("side affects", "side effects"),
])
def test_lay_terms_and_abbreviations_match_the_documents(searcher, lay, document_words):
    assert searcher.analyzer.terms(lay) == searcher.analyzer.terms(document_words)


@pytest.mark.parametrize("typo, fixed", [("hedache", "headache"), ("imunoglobulin", "immunoglobulin"),
                                         ("fibromyalga", "fibromyalgia"), ("infusoin", "infusion")])
def test_misspellings_are_corrected_against_the_corpus(searcher, typo, fixed):
    assert searcher.parse(typo).content == searcher.parse(fixed).content
    assert searcher.parse(typo).corrections == ((typo, fixed),)


def test_known_words_and_their_other_forms_are_never_corrected(searcher):
    assert searcher.parse("does the doctor recommend it").corrections == ()


def test_corrector_prefers_the_closest_then_most_frequent_word(models):
    corrector = SpellingCorrector(models.english, Counter({"fever": 5, "fevers": 1, "lever": 1}))
    assert corrector.correct("feverr") == "fever"  # one edit from "fever" and "fevers": the commoner wins
    assert corrector.correct("rahs") == "rahs"  # four letters: too short to guess safely
    assert corrector.correct("zzzz") == "zzzz"
    assert corrector.correct("zzzzzzz") == "zzzzzzz"  # a run of one letter is not shortened into a guess
    assert corrector.correct("sooooore") == "sore" and corrector.correct("cooool") == "cool"


def test_a_tie_between_corrections_never_depends_on_word_order(models):
    """Domain words arrive from sets, whose order changes with every start (the hash seed).
    Two equally good corrections must be settled the same way every time, or a restart could
    change what triage reads and so whether an alarm is raised."""
    words = ["sezure", "siezure", "seizure"]
    picked = {SpellingCorrector(models.english, Counter(dict.fromkeys(order, 1))).correct("seezure")
              for order in (words, words[::-1], words[1:] + words[:1])}
    assert picked == {"seizure"}, picked  # all one edit away and equally common: the first alphabetically


def test_synonyms_file_errors_are_clear(tmp_path):
    with pytest.raises(SynonymsError, match="line 2: a synonym line needs at least two terms"):
        parse_synonyms("# comment\nlonely\n", source="synonyms.txt")
    bad = tmp_path / "synonyms.txt"
    bad.write_bytes(b"caf\xe9, coffee\n")
    with pytest.raises(SynonymsError, match="cannot be read as UTF-8"):
        Analyzer.from_files(bad)


def test_clinic_synonyms_apply_to_both_documents_and_questions():
    analyzer = Analyzer(parse_synonyms("port, port-a-cath, central line"))
    assert analyzer.terms("my port-a-cath") == analyzer.terms("central line") == ["port"]
