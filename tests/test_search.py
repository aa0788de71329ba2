"""Retrieval on the built-in corpus: right passages for patients' questions, honest abstention."""
from __future__ import annotations

import pytest

from conftest import load_jsonl, plain

QUESTIONS = load_jsonl("questions.jsonl")
IN_SCOPE = [q for q in QUESTIONS if not q.get("out_of_scope")]
OUT_OF_SCOPE = [q["question"] for q in QUESTIONS if q.get("out_of_scope")]


def test_the_question_set_is_substantial():
    assert len(IN_SCOPE) >= 40 and len(OUT_OF_SCOPE) >= 15


# In-scope questions the bot declines, since out-of-scope questions on the same topic taught it
# caution there: the tune half's "what's the dose of nexavir", and the outside writers' "How long
# does the mild skin reaction at the injection site usually last?" (bot/data/out_of_scope.jsonl).
# Listed in BENCHMARKS.md; strict, so a fix makes this list shrink.
KNOWN_MISSES = {"what is nexavir for": "declined: Nexavir questions are mostly out of scope",
                "rash at the injection site": "declined: near misses on how long the skin reaction lasts"}


@pytest.mark.parametrize("case", [
    pytest.param(q, marks=pytest.mark.xfail(strict=True, reason=KNOWN_MISSES[q["question"]]))
    if q["question"] in KNOWN_MISSES else q for q in IN_SCOPE], ids=[q["question"] for q in IN_SCOPE])
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


def test_every_passage_that_answers_is_offered_not_only_the_best(searcher):
    # The learned matcher's probabilities favour one passage; the others that answer must still
    # be offered under "More from the documents".
    texts = [h.passage.text for h in searcher.search(searcher.parse("what side effects can ivig cause"))]
    assert len(texts) == 3
    assert {t[:20] for t in texts} == {"These include back p", "Side Effects can inc", "IVIGs can cause seve"}


def test_titles_and_headings_count_but_are_not_pasted_into_text(searcher):
    # "lupus" appears only in the lupus guide's title for this passage.
    hits = searcher.rank(searcher.parse("lupus mechanism"), 3)  # ranking only: whether to answer is another test
    assert hits[0].passage.text.startswith("Although the mechanism")
    assert all(not h.passage.text.startswith(h.passage.title) for h in hits)


def test_a_question_of_only_small_words_matches_nothing(searcher):
    assert searcher.search(searcher.parse("what is it and how does it do that")) == []


def test_a_one_document_corpus_still_answers(make_corpus, settings, build):
    from conftest import document
    tiny = build(settings.with_overrides(corpus_dir=make_corpus({"a.md": document("a", "Bring a book to your infusion.")})))
    assert [h.passage.text for h in tiny.search(tiny.parse("what should I bring to my infusion"))] == ["Bring a book to your infusion."]
    assert tiny.search(tiny.parse("can my dog eat chocolate")) == []


HELD_OUT_QUESTIONS = load_jsonl("eval/questions.heldout.jsonl")
# Issue 8's targets on this never-tuned half: first passage correct >= 0.90 with >= 95% answered,
# out-of-scope abstention >= 0.95, misleading <= 0.02. All four are met since the tenth session
# (2026-11-23; BENCHMARKS.md lists every miss, and says how often the half was read that
# session). The floors hold the measured level, at or beyond the targets.


def test_no_held_out_question_is_one_the_bot_learned_from(searcher):
    """The example questions content staff wrote, the out-of-scope questions and the tune half
    all teach the answer model; a held-out question equal to one of them measures recall of it."""
    from bot.search import OUT_OF_SCOPE, read_out_of_scope
    learned = {plain(q) for p in searcher.passages for q in p.questions}
    learned |= {plain(q) for q in read_out_of_scope(OUT_OF_SCOPE)}
    learned |= {plain(q["question"]) for q in load_jsonl("eval/questions.tune.jsonl")}
    held_out = {plain(q["question"]) for q in HELD_OUT_QUESTIONS}
    shared = len(learned & held_out)  # a number: pytest would show the texts, and they are held out
    assert shared == 0


def test_held_out_patient_questions_hold_their_measured_level(searcher):
    answerable = [q for q in HELD_OUT_QUESTIONS if q["expect"] == "answer"]
    outside = [q for q in HELD_OUT_QUESTIONS if q["expect"] == "none"]
    right = wrong = 0
    for q in answerable:
        hits = searcher.search(searcher.parse(q["question"]))
        if hits and any(hits[0].passage.document == a["document"] and hits[0].passage.text.startswith(a["starts"])
                        for a in q["answers"]):
            right += 1
        elif hits:
            wrong += 1
    answered_outside = sum(1 for q in outside if searcher.search(searcher.parse(q["question"])))
    inside, beyond = len(answerable), len(outside)  # numbers only in the asserts: the lists are held out
    # Measured on the 2,052 held-out questions (searcher alone, BENCHMARKS.md): 0.941 right,
    # 0.954 answered, 0.013 misleading (17), 0.965 of the out-of-scope declined (708 of 734).
    assert right / inside >= 0.93
    assert (right + wrong) / inside >= 0.95
    assert wrong / inside <= 0.015
    assert 1 - answered_outside / beyond >= 0.96


def test_a_follow_up_without_a_meaning_vector_is_judged_on_the_usual_closeness(searcher):
    """"Tell me more" searches with the topic's words alone. Closeness to the out-of-scope
    questions cannot be read without a vector: it must count as typical, not as "far from
    anything out of scope" (0.0), which would push the answer model towards answering."""
    from bot.search import Query
    asked = searcher.parse("what are the side effects of ivig")
    bare = Query(asked.terms, asked.content)
    hits = searcher.rank(bare, 2)
    typical = searcher.answer_model.fill["outside"]
    assert 0.3 < typical < 0.9
    assert searcher.features(bare, hits)["outside"] == typical
    assert searcher.features(asked, searcher.rank(asked, 2))["outside"] != typical


@pytest.mark.parametrize("question, kinds", [
    ("how many people were in the trial", {"number"}), ("hw long does it take", {"number"}),
    ("when was ivig first approved", {"year"}), ("cuantas horas dura la infusion", {"number"}),
    ("what are the side effects", set()), ("when did my symptoms start", set())])
def test_a_question_asking_for_a_number_or_a_year_is_recognised(searcher, question, kinds):
    assert searcher.parse(question).asks == kinds


def test_a_passage_holds_a_number_in_digits_or_words_and_a_year_in_four_digits(searcher):
    types = searcher.answer_types
    assert types.holds("number", "It takes 2 to 4 hours.") and types.holds("number", "It takes several hours.")
    assert not types.holds("number", "It is given by a nurse in a clinic.")
    assert not types.holds("number", "Once the infusion starts, sit back.")
    assert types.holds("number", "La infusion dura dos horas.")
    assert types.holds("year", "It was approved in 1981.") and types.holds("year", "It was first used in the 1980s.")
    assert not types.holds("year", "It costs 3000 dollars.") and not types.holds("year", "It takes 4 hours.")


def test_a_best_passage_without_the_number_asked_for_counts_against_answering(searcher):
    """The answer model weighs `no_such_answer` (bench/fit_answer_model.py fits it on the tune
    half): asking for a year of a passage that holds none lowers the confidence."""
    from bot.search import Query
    query = searcher.parse("what year did doctors start using ivig for lupus")
    hits = searcher.rank(query, 2)
    assert query.asks == {"year"} and not searcher.answer_types.holds("year", hits[0].passage.text)
    assert searcher.features(query, hits)["no_such_answer"] == 1.0
    unasked = Query(query.terms, query.content, query.corrections, query.vector, query.stems)
    assert searcher.confidence(query, hits) < searcher.confidence(unasked, hits)


def test_answer_types_file_must_be_usable(tmp_path, searcher):
    from bot.search import AnswerTypes, AnswerTypesError
    bad = tmp_path / "answer_types.yaml"
    bad.write_text("asks:\n  colour: [what colour]\nnumbers: [one]\n", encoding="utf-8")
    with pytest.raises(AnswerTypesError, match="answer_types.yaml"):
        AnswerTypes.load(bad, searcher.understander)
