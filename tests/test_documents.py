"""Corpus loading: faithful cleaning of the seeds, and clear errors for broken files."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.documents import CorpusError, load_corpus
from conftest import DATA, document

CORPUS = Path(__file__).parent.parent / "corpus"
# Web-page debris the cleaned corpus must not contain (navigation, footer, captions, glued alt text).
DEBRIS = {
    "lupus guide", "Lupus Symptoms", "Diagnosing Lupus", "Other Drugs", "Psychological Issues", "Living with Lupus",
    "IVG side effects", "About Us | Contact Us | Legal Disclaimer | Resources | Sitemap", "© 2012 All Rights Reserved",
    "Share this!", "immunoglobulinImmunoglobulin Therapy or IVIG",
}


def squash(text: str) -> str:
    return " ".join(text.replace("•", " ").split())


def seed_lines() -> list[str]:
    lines = []
    for seed in sorted((DATA / "seeds").glob("*.txt")):
        for line in seed.read_text(encoding="utf-8").splitlines():
            line = squash(line.replace("Share this!", ""))
            if line and line not in DEBRIS:
                lines.append(line)
    return lines


def test_every_sentence_of_the_seeds_is_kept_word_for_word():
    corpus_text = squash(" ".join(p.read_text(encoding="utf-8") for p in CORPUS.glob("*.md")))
    missing = [line for line in seed_lines() if line not in corpus_text]
    assert missing == []


def test_web_page_debris_is_gone():
    for path in CORPUS.glob("*.md"):
        lines = {squash(re.sub(r"^[#\-\s]+", "", line)) for line in path.read_text(encoding="utf-8").splitlines()}
        assert not (DEBRIS & lines), path.name


def test_built_in_documents_carry_attribution_and_the_publishers_caveat():
    documents = {d.id: d for d in load_corpus(CORPUS)}
    assert set(documents) == {"phoenix-rising-ivig", "lupus-guide-ivig"}
    phoenix = documents["phoenix-rising-ivig"]
    assert phoenix.publisher == "Phoenix Rising"
    assert "compiled by a layman" in phoenix.caveat
    assert phoenix.url == ""  # neither seed gives a url, so none is invented
    sections = [b.section for b in phoenix.blocks]
    assert "Side Effects" in sections and sections[-1] == "References"


def test_headings_and_lists_survive_as_structure():
    lupus = {d.id: d for d in load_corpus(CORPUS)}["lupus-guide-ivig"]
    lists = [b for b in lupus.blocks if b.is_list]
    assert len(lists) == 1 and lists[0].section == "Possible Side Effects"
    assert lists[0].items[0] == "Dermatologic: rash, mild skin reaction at injection site"


def test_id_defaults_to_the_file_name(make_corpus):
    corpus = make_corpus({"infusion-day.md": '---\ntitle: "Infusion day"\npublisher: "Clinic"\n---\n\nBring a book.\n'})
    assert [d.id for d in load_corpus(corpus)] == ["infusion-day"]


def test_every_broken_file_is_named_with_its_problem(make_corpus):
    corpus = make_corpus({
        "good.md": document("good", "Fine text."),
        "bad-yaml.md": "---\ntitle: [unclosed\n---\n\nText.\n",
        "no-title.md": "---\nid: no-title\npublisher: Clinic\n---\n\nText.\n",
        "empty.md": document("empty", ""),
        "latin1.md": document("latin1", "Caf\u00e9").encode("latin-1"),
        "dupe.md": document("good", "Another text."),
        "no-front-matter.md": "Just text.\n",
    })
    with pytest.raises(CorpusError) as caught:
        load_corpus(corpus)
    problems = "\n".join(caught.value.problems)
    assert len(caught.value.problems) == 6
    assert "bad-yaml.md: front matter is not valid YAML" in problems
    assert "no-title.md: front matter has no 'title'" in problems
    assert "empty.md: the body has no text" in problems
    assert "latin1.md: not UTF-8" in problems
    assert "good.md: duplicate id 'good' (also used by dupe.md)" in problems
    assert "no-front-matter.md: no front matter" in problems


def test_missing_or_empty_directory_is_an_error(tmp_path):
    with pytest.raises(CorpusError, match="not found"):
        load_corpus(tmp_path / "nowhere")
    with pytest.raises(CorpusError, match="no \\*.md documents"):
        load_corpus(tmp_path)


def test_unreadable_files_are_reported_and_editor_files_ignored(make_corpus):
    corpus = make_corpus({"good.md": document("good", "Fine text."), ".#good.md": "lock", "~good.md": "backup"})
    (corpus / "folder.md").mkdir()
    assert [d.id for d in load_corpus(corpus)] == ["good"]
    (corpus / "moved.md").symlink_to(corpus / "gone-elsewhere.md")  # unreadable, even for root
    with pytest.raises(CorpusError, match="moved.md: cannot be read"):
        load_corpus(corpus)
