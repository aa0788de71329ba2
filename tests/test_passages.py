"""Passages: what a patient reads at a glance, always in the document's own words."""
from __future__ import annotations

from pathlib import Path

from bot.documents import load_corpus
from bot.passages import MAX_WORDS, make_passages
from conftest import document


def passages_of(make_corpus, body: str):
    return make_passages(load_corpus(make_corpus({"d.md": document("d", body, title="Title")})))


def test_paragraph_is_a_passage_with_its_heading_and_attribution(make_corpus):
    [passage] = passages_of(make_corpus, "## Costs\n\nInfusions are expensive.")
    assert (passage.document, passage.title, passage.publisher, passage.section, passage.text) == (
        "d", "Title", "Test Clinic", "Costs", "Infusions are expensive.")


def test_list_travels_with_its_lead_in_line(make_corpus):
    [passage] = passages_of(make_corpus, "## Side effects\n\nThese include:\n\n- rash\n- fever\n")
    assert passage.text == "These include:\n• rash\n• fever"


def test_passages_never_cross_a_heading(make_corpus):
    passages = passages_of(make_corpus, "## A\n\nFirst part.\n\n## B\n\n- item one\n- item two\n")
    assert [(p.section, p.text) for p in passages] == [("A", "First part."), ("B", "• item one\n• item two")]


def test_long_paragraph_splits_at_sentences_with_overlap_and_keeps_dr_whole(make_corpus):
    sentences = [f"Dr. Smith saw patient number {i} and wrote a long note about the visit that day." for i in range(20)]
    passages = passages_of(make_corpus, " ".join(sentences))
    assert len(passages) > 1
    for passage in passages:
        assert len(passage.text.split()) <= MAX_WORDS
        assert passage.text.startswith("Dr. Smith") and passage.text.endswith("that day.")
    for before, after in zip(passages, passages[1:]):
        assert before.text.split(". Dr. ")[-1] in after.text  # one sentence of overlap
    covered = " ".join(p.text for p in passages)
    assert all(s in covered for s in sentences)


def test_text_is_verbatim_from_the_document(make_corpus):
    body = "Side Effects can include fevers, chest pain, etc. Die-off reactions can occur."
    [passage] = passages_of(make_corpus, body)
    assert passage.text == body


def test_reference_lists_are_not_offered_as_answers():
    passages = make_passages(load_corpus(Path(__file__).parent.parent / "corpus"))
    assert all(p.section != "References" for p in passages)
    assert not any("Rheumatology (Oxford)" in p.text for p in passages)
