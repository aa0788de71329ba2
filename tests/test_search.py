"""Retrieval on the built-in corpus: right passages for patients' questions, honest abstention."""
from __future__ import annotations

import pytest

from conftest import load_jsonl

QUESTIONS = load_jsonl("questions.jsonl")
IN_SCOPE = [q for q in QUESTIONS if not q.get("out_of_scope")]
OUT_OF_SCOPE = [q["question"] for q in QUESTIONS if q.get("out_of_scope")]


def test_the_question_set_is_substantial():
    assert len(IN_SCOPE) >= 40 and len(OUT_OF_SCOPE) >= 15


@pytest.mark.parametrize("case", IN_SCOPE, ids=[q["question"] for q in IN_SCOPE])
def test_patient_question_finds_its_passage(searcher, case):
    hits = searcher.search(searcher.parse(case["question"]))
    found = [(h.passage.document, h.passage.text) for h in hits[: case["within"]]]
    assert any(doc == case["document"] and case["passage"] in text for doc, text in found), found


@pytest.mark.parametrize("question", OUT_OF_SCOPE)
def test_out_of_scope_question_gets_no_passages(searcher, question):
    assert searcher.search(searcher.parse(question)) == []


def test_headache_question_returns_the_lupus_guide_headache_passage_first(searcher):
    best = searcher.search(searcher.parse("what are IVIG headaches like"))[0].passage
    assert best.document == "lupus-guide-ivig" and best.section == "Possible Side Effects"
    assert best.text.startswith("IVIGs can cause severe headaches that can get worse for a day or two")


def test_at_most_three_passages_best_first(searcher):
    hits = searcher.search(searcher.parse("side effects"))
    assert 1 <= len(hits) <= 3
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_titles_and_headings_count_but_are_not_pasted_into_text(searcher):
    # "lupus" appears only in the lupus guide's title for this passage.
    hits = searcher.search(searcher.parse("lupus mechanism"))
    assert hits[0].passage.text.startswith("Although the mechanism")
    assert all(not h.passage.text.startswith(h.passage.title) for h in hits)


def test_a_question_of_only_small_words_matches_nothing(searcher):
    assert searcher.search(searcher.parse("what is it and how does it do that")) == []


def test_a_one_document_corpus_still_answers(make_corpus, settings, build):
    from conftest import document
    tiny = build(settings.with_overrides(corpus_dir=make_corpus({"a.md": document("a", "Bring a book to your infusion.")})))
    assert [h.passage.text for h in tiny.search(tiny.parse("what should I bring to my infusion"))] == ["Bring a book to your infusion."]
    assert tiny.search(tiny.parse("can my dog eat chocolate")) == []
