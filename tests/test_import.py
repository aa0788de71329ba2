"""`ivig-bot import`: real HTML, DOCX, PDF and text files made into corpus documents.

The files under tests/data/import/ were made by real tools: clinic-page.html is written like a
clinic CMS page (menus, breadcrumbs, share buttons, a captioned image, a sidebar, a footer
with a © line); infusion-leaflet.docx by python-docx (make_docx.py); ivig-leaflet.pdf and
scanned-leaflet.pdf by reportlab (a typeset two-page leaflet, and a picture of a page with no
text layer). The seeds are the built-in corpus's original pages. No test touches the network:
URL fetching is tested against an http.server on 127.0.0.1 started here.
"""
from __future__ import annotations

import http.server
import re
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot import importing
from bot.cli import main
from bot.documents import load_corpus, parse_document
from conftest import DATA

FILES = DATA / "import"
SEEDS = DATA / "seeds"


def run(*args: str):
    return CliRunner().invoke(main, ["import", *args])


def imported(out: Path, doc_id: str):
    """The written file's text and its document, loaded exactly as `ivig-bot check` loads it."""
    path = out / f"{doc_id}.md"
    documents = {d.id: d for d in load_corpus(out)}
    return path.read_text(encoding="utf-8"), documents[doc_id]


def squash(text: str) -> str:
    return " ".join(text.split())


def body_lines(text: str) -> set[str]:
    """Every line of the Markdown body with its '#', '-' or '1.' marker taken off."""
    body = text.split("\n---\n", 1)[1]
    return {squash(re.sub(r"^(#+|-|\d+\.)\s+", "", line)) for line in body.splitlines() if line.strip()}


# --------------------------------------------------------------------------- HTML

HTML_DEBRIS = [
    "Skip to content", "Our Services", "Patient Resources", "Locations & Hours", "Contact Us", "Share this!",
    "Facebook", "Tweet", "Pin it", "Our infusion suite has reclining chairs", "Related Articles",
    "Paying for your treatment", "Sign up for our newsletter", "Subscribe", "About Us", "Privacy Policy", "Sitemap",
    "©", "All Rights Reserved", "12 Mill Lane", "Riverside Infusion Clinic logo",
]


def test_html_page_keeps_the_article_and_drops_the_page_frame(tmp_path):
    result = run(str(FILES / "clinic-page.html"), "--out", str(tmp_path), "--publisher", "Riverside Infusion Clinic")
    assert result.exit_code == 0, result.output
    text, document = imported(tmp_path, "clinic-page")
    for debris in HTML_DEBRIS:
        assert debris not in text, debris
    assert document.title == "Your IVIG Infusion Day"  # the page's h1, not "... | Riverside Infusion Clinic"
    assert document.publisher == "Riverside Infusion Clinic" and document.url == ""
    assert "## How long it takes" in text and "## What to bring" in text and "## Side effects to watch for" in text
    sections = {b.section for b in document.blocks}
    assert sections == {"Your IVIG Infusion Day", "How long it takes", "What to bring", "Side effects to watch for"}
    lists = [b for b in document.blocks if b.is_list]
    assert [b.section for b in lists] == ["What to bring", "Side effects to watch for"]
    assert lists[0].items == ("a list of all the medicines you take", "something to read or a tablet with headphones",
                              "a snack and a bottle of water", "a warm sweater, because the room can feel cool")
    assert lists[1].items[0] == "a severe headache with a stiff neck"
    # Lines broken in the HTML source are one paragraph again.
    assert ("Most infusions take two to four hours. Your first infusion is given more slowly, so plan to spend most "
            "of the day with us.") in text


def test_import_prints_what_it_wrote_and_the_passages_it_will_make(tmp_path):
    result = run(str(FILES / "clinic-page.html"), "--out", str(tmp_path), "--publisher", "Riverside Infusion Clinic")
    assert f"wrote {tmp_path / 'clinic-page.md'} (html)" in result.output
    assert "5 passage(s)" in result.output
    assert "[3] What to bring: Please bring these things with you on the day: • a list of all" in result.output
    assert "ok: 1 documents" in result.output


def test_html_in_a_declared_legacy_charset_with_line_breaks_and_inline_markup(tmp_path):
    page = ("<html><head><meta charset='windows-1252'><title>Caf\xe9 | Clinic</title></head><body><article>"
            "<h1>Caf\xe9 visits and IVIG \u2013 what to know</h1><p>A na\xefve question about caf\xe9 visits after an "
            "infusion is welcome.<br>Drink <b>plenty</b> of water, not just coffee, on the day of your immuno<i>globulin"
            "</i> infusion.</p><ul><li>Common effects:<ul><li>headache</li><li>tiredness</li></ul></li></ul>"
            "</article></body></html>").encode("cp1252")
    source = tmp_path / "cafe.html"
    source.write_bytes(page)
    result = run(str(source), "--out", str(tmp_path / "corpus"), "--publisher", "Clinic")
    assert result.exit_code == 0, result.output
    text, document = imported(tmp_path / "corpus", "cafe")
    assert document.title == "Café visits and IVIG – what to know"
    assert ("A naïve question about café visits after an infusion is welcome. Drink plenty of water, not just coffee, "
            "on the day of your immunoglobulin infusion.") in text
    assert [b.items for b in document.blocks if b.is_list] == [("Common effects:", "headache", "tiredness")]


# --------------------------------------------------------------------------- DOCX


def test_docx_heading_styles_become_sections_and_list_styles_stay_lists(tmp_path):
    result = run(str(FILES / "infusion-leaflet.docx"), "--out", str(tmp_path), "--publisher", "Riverside")
    assert result.exit_code == 0, result.output
    text, document = imported(tmp_path, "infusion-leaflet")
    assert document.title == "Home IVIG Infusions: A Patient Leaflet"  # core properties
    assert "## Before the nurse arrives" in text and "## During the infusion" in text and "## After the infusion" in text
    assert "Home IVIG Infusions\n" not in text  # the Title paragraph is the title, not a section
    lists = [b for b in document.blocks if b.is_list]
    assert [(b.section, len(b.items)) for b in lists] == [("Before the nurse arrives", 3), ("After the infusion", 3)]
    assert "- a table near a comfortable chair" in text  # List Bullet
    assert "1. drink plenty of water\n2. rest in a quiet room" in text  # List Number
    # A manual line break inside a paragraph does not split it.
    assert "blood pressure every thirty minutes. Tell the nurse" in text


# --------------------------------------------------------------------------- PDF


def test_pdf_text_layer_becomes_sections_lists_and_whole_paragraphs(tmp_path):
    result = run(str(FILES / "ivig-leaflet.pdf"), "--out", str(tmp_path), "--publisher", "Riverside")
    assert result.exit_code == 0, result.output
    text, document = imported(tmp_path, "ivig-leaflet")
    assert document.title == "Understanding IVIG Treatment"  # PDF metadata
    for heading in ("What is IVIG?", "Common side effects", "When to call us", "Paying for treatment"):
        assert f"## {heading}\n" in text, heading
    assert "before the immunoglobulin is given" in text  # "immuno-" + "globulin" mended
    assert "antibodies of many healthy blood donors" in text  # a line break inside a paragraph
    lists = [b for b in document.blocks if b.is_list]
    assert len(lists) == 1 and lists[0].section == "Common side effects"
    # The third item wraps onto a second, indented line; the paragraph after the list follows
    # with no gap and stays a paragraph.
    assert lists[0].items == ("headache, sometimes starting a day after the infusion", "tiredness and aching muscles",
                              "chills or a mild fever during the infusion, which usually settle when the infusion is "
                              "slowed down")
    assert ("\n\nThese effects are usually short-lived. Some people on long-term treatment have fewer side effects over "
            "time; tell us if they do not settle in long-term treatment.\n") in text  # "long-" + "term": a real compound
    assert "Page 1 of 2" not in text and "Page 2" not in text
    assert "insurance covers before your first infusion." in text  # the second page


def test_pdf_without_a_text_layer_is_a_clear_error(tmp_path):
    result = run(str(FILES / "scanned-leaflet.pdf"), "--out", str(tmp_path), "--publisher", "Riverside")
    assert result.exit_code == 2
    assert "no text layer" in result.output and "scan" in result.output and "OCR" in result.output
    assert "Traceback" not in result.output
    assert not list(tmp_path.glob("*.md"))


# --------------------------------------------------------------------------- the built-in corpus's seeds

SEED_DEBRIS = {
    "lupus guide", "Lupus Symptoms", "Diagnosing Lupus", "Other Drugs", "Psychological Issues", "Living with Lupus",
    "IVG side effects", "About Us | Contact Us | Legal Disclaimer | Resources | Sitemap", "© 2012 All Rights Reserved",
    "Share this!", "immunoglobulinImmunoglobulin Therapy or IVIG",
}


@pytest.mark.parametrize("seed", sorted(SEEDS.glob("*.txt")), ids=lambda p: p.stem)
def test_seed_pages_lose_their_debris_and_keep_every_sentence(seed, tmp_path):
    # The seeds are the text of the original web pages (there is no HTML seed): menus, a glued
    # image alt text, an image caption, a link row, a © line and "Share this!" are in them.
    result = run(str(seed), "--out", str(tmp_path), "--publisher", "Seed", "--id", "seed")
    assert result.exit_code == 0, result.output
    text, document = imported(tmp_path, "seed")
    lines = body_lines(text)
    assert not (SEED_DEBRIS & lines)
    assert "Share this!" not in text and "©" not in text and "All Rights Reserved" not in text
    flat = squash(text.replace("\n- ", " • "))
    for line in seed.read_text(encoding="utf-8").splitlines():
        line = squash(line)
        if line and line not in SEED_DEBRIS and line != "IVIG (Immunoglobulins)":
            assert squash(line.lstrip("• ")) in flat, line


def test_seed_structure_headings_and_lists():
    out = {}
    for seed in sorted(SEEDS.glob("*.txt")):
        extracted = importing.convert(seed.read_bytes(), "text")
        out[extracted.title] = extracted.elements
    assert set(out) == {"IVIG (Immunoglobulins)", "Intravenous Immunoglobulins (IVIGs) and Lupus"}
    phoenix = [e.text for e in out["IVIG (Immunoglobulins)"] if e.kind == "heading"]
    assert phoenix == ["Immunoglobulin Therapy or IVIG", "Chronic Fatigue Syndrome (ME/CFS)/Fibromyalgia (FM) Studies",
                       "Chronic Fatigue Syndrome (ME/CFS) Doctors Report", "Side Effects"]
    lupus = out["Intravenous Immunoglobulins (IVIGs) and Lupus"]
    assert [e.text for e in lupus if e.kind == "heading"] == ["Possible Side Effects"]
    lists = [e for e in lupus if e.kind == "list"]
    assert len(lists) == 1 and lists[0].items[0] == "Dermatologic: rash, mild skin reaction at injection site"
    # The publisher's own disclaimer after the © line is kept.
    assert any("This information is not a substitute" in e.text for e in lupus)


# --------------------------------------------------------------------------- plain text and the library


def test_text_lines_are_rejoined_and_line_end_hyphens_undone():
    source = ("Infusion Day\n\nYour Visit\nIVIG means intravenous immuno-\nglobulin. It is given in the\n"
              "clinic for long-term conditions; some long-\nterm patients have it at home.\n\n"
              "Bring:\n- a book\n- a snack that\n  you like\n").encode()
    extracted = importing.convert(source, "text")
    assert extracted.title == "Infusion Day"
    kinds = [(e.kind, e.text or e.items) for e in extracted.elements]
    assert kinds == [
        ("heading", "Your Visit"),
        ("paragraph", "IVIG means intravenous immunoglobulin. It is given in the clinic for long-term conditions; "
                      "some long-term patients have it at home."),
        ("paragraph", "Bring:"),
        ("list", ["a book", "a snack that you like"]),
    ]


def test_markdown_characters_in_the_text_survive_word_for_word(tmp_path):
    extracted = importing.Extracted("A *title*", [
        importing.Element("paragraph", "# not a heading, 2 * 3 * 4 and snake_case_words [sic] <b>"),
        importing.Element("paragraph", "1. not a list either"),
        importing.Element("list", items=["<!-- not a comment -->", "&amp; stays"]),
    ])
    markdown = importing.to_document(extracted, publisher="Clinic", doc_id="odd")
    document = parse_document(markdown.encode(), tmp_path / "odd.md")
    assert document.title == "A *title*"
    assert [b.paragraph for b in document.blocks[:2]] == [
        "# not a heading, 2 * 3 * 4 and snake_case_words [sic] <b>", "1. not a list either"]
    assert document.blocks[2].items == ("<!-- not a comment -->", "&amp; stays")


@pytest.mark.parametrize("name, expected", [
    ("IVIG Leaflet (2024).pdf", "ivig-leaflet-2024"), ("infusion_day.docx", "infusion-day"),
    ("https://clinic.example/patients/infusion-day.html", "infusion-day"), ("https://clinic.example/", "clinic-example"),
])
def test_the_id_is_a_slug_of_the_file_name(name, expected):
    assert importing.slug(name) == expected


# --------------------------------------------------------------------------- options and errors


def test_title_url_and_id_options(tmp_path):
    result = run(str(FILES / "clinic-page.html"), "--out", str(tmp_path), "--publisher", "Riverside",
                 "--title", "Infusion day at Riverside", "--url", "https://riverside.example/infusion", "--id", "infusion-day")
    assert result.exit_code == 0, result.output
    _, document = imported(tmp_path, "infusion-day")
    assert (document.title, document.url) == ("Infusion day at Riverside", "https://riverside.example/infusion")


def test_an_existing_file_is_never_overwritten_without_force(tmp_path):
    target = tmp_path / "clinic-page.md"
    target.write_text("---\ntitle: Mine\npublisher: Me\n---\n\nKeep me.\n", encoding="utf-8")
    result = run(str(FILES / "clinic-page.html"), "--out", str(tmp_path), "--publisher", "Riverside")
    assert result.exit_code == 2 and "already exists" in result.output and "--force" in result.output
    assert "Keep me." in target.read_text(encoding="utf-8")
    result = run(str(FILES / "clinic-page.html"), "--out", str(tmp_path), "--publisher", "Riverside", "--force")
    assert result.exit_code == 0, result.output
    assert "Keep me." not in target.read_text(encoding="utf-8")


def test_an_id_already_used_by_another_file_is_refused(tmp_path):
    (tmp_path / "other.md").write_text("---\nid: clinic-page\ntitle: T\npublisher: P\n---\n\nText.\n", encoding="utf-8")
    result = run(str(FILES / "clinic-page.html"), "--out", str(tmp_path), "--publisher", "Riverside")
    assert result.exit_code == 2 and "already used by other.md" in result.output
    assert not (tmp_path / "clinic-page.md").exists()


def test_several_files_at_once(tmp_path):
    result = run(str(FILES / "clinic-page.html"), str(FILES / "infusion-leaflet.docx"), "--out", str(tmp_path),
                 "--publisher", "Riverside")
    assert result.exit_code == 0, result.output
    assert sorted(d.id for d in load_corpus(tmp_path)) == ["clinic-page", "infusion-leaflet"]
    assert "ok: 2 documents" in result.output
    result = run(str(FILES / "clinic-page.html"), str(FILES / "infusion-leaflet.docx"), "--out", str(tmp_path),
                 "--publisher", "Riverside", "--id", "one", "--force")
    assert result.exit_code == 1 and "one at a time" in result.output


def test_the_publisher_is_required(tmp_path):
    result = run(str(FILES / "clinic-page.html"), "--out", str(tmp_path))
    assert result.exit_code == 1 and "--publisher is required" in result.output
    assert not list(tmp_path.iterdir())
    result = run(str(FILES / "clinic-page.html"), "--publisher", "Riverside")
    assert result.exit_code == 1 and "--out" in result.output


@pytest.mark.parametrize("name, content, message", [
    ("missing.html", None, "no such file"),
    ("fake.pdf", b"this is not a pdf", "is not one"),
    ("broken.pdf", b"%PDF-1.4\n garbage \x00\x01\x02", "cannot be read"),
    ("broken.docx", b"PK\x03\x04 not really a zip", "cannot be read"),
    ("blob.bin", bytes(range(256)) * 4, "binary file"),
    ("empty.txt", b"\n\n   \n", "no text"),
    ("menu-only.html", b"<html><body><nav><a href='/'>Home</a></nav></body></html>", "no text"),
    ("untitled.txt", b"this leaflet starts with a sentence, so it has no title line of its own.\n", "--title"),
    ("huge.txt", b"IVIG. " * (1024 * 1024), "larger than the import limit"),
])
def test_bad_input_is_a_clear_error_never_a_traceback(tmp_path, name, content, message):
    source = tmp_path / name
    if content is not None:
        source.write_bytes(content)
    out = tmp_path / "corpus"
    result = run(str(source), "--out", str(out), "--publisher", "Riverside")
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not out.exists() or not list(out.glob("*.md"))


# --------------------------------------------------------------------------- fetching (a local server only)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        if self.path == "/patients/infusion-day.html":
            body = (FILES / "clinic-page.html").read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
        elif self.path == "/leaflet":
            body = (FILES / "ivig-leaflet.pdf").read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/pdf")
        elif self.path == "/slow":
            time.sleep(2)
            body = b"late"
            self.send_response(200)
        else:
            body = b"not here"
            self.send_response(404)
        try:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # /slow: the client gave up first, as the test intends

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


def test_a_url_is_fetched_and_becomes_the_documents_url(server, tmp_path):
    url = f"{server}/patients/infusion-day.html"
    result = run(url, "--out", str(tmp_path), "--publisher", "Riverside")
    assert result.exit_code == 0, result.output
    text, document = imported(tmp_path, "infusion-day")
    assert document.url == url and document.title == "Your IVIG Infusion Day"
    assert "Share this!" not in text and "## What to bring" in text


def test_the_content_type_decides_for_a_url_without_a_suffix(server, tmp_path):
    result = run(f"{server}/leaflet", "--out", str(tmp_path), "--publisher", "Riverside")
    assert result.exit_code == 0, result.output
    _, document = imported(tmp_path, "leaflet")
    assert document.title == "Understanding IVIG Treatment"


def test_fetch_errors_are_clear(server, tmp_path):
    result = run(f"{server}/gone", "--out", str(tmp_path), "--publisher", "Riverside")
    assert result.exit_code == 2 and "404" in result.output and "Traceback" not in result.output
    with pytest.raises(importing.ImportProblem, match="larger than the import limit"):
        importing.fetch(f"{server}/patients/infusion-day.html", max_bytes=1000)
    with pytest.raises(importing.ImportProblem, match="no answer within|cannot be fetched"):
        importing.fetch(f"{server}/slow", timeout=0.3)
    assert importing.FETCH_TIMEOUT == 10 and importing.MAX_INPUT_BYTES == 5 * 1024 * 1024
