"""Turning a clinic's existing pages and leaflets into corpus documents.

`ivig-bot import` reads HTML pages (trafilatura keeps the article, drops menus, share buttons,
sidebars, footers and captions), PDFs (their text layer, via pypdf), Word files (python-docx:
heading styles become sections, list styles stay lists) and plain text, and writes one Markdown
document in the corpus format (see bot/documents.py). The library half is usable on its own:

    markdown = to_document(convert(data, "pdf"), publisher="Riverside Clinic", doc_id="leaflet")

Everything here only rearranges the document's own words: headings become `##` sections,
lists stay lists, paragraphs broken across lines are joined again and words hyphenated at a
line end are mended. Nothing is fetched unless a URL is given on the command line; the server
never imports anything.
"""
from __future__ import annotations

import io
import re
import sys
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, NoReturn

import click
import yaml

KINDS = ("html", "pdf", "docx", "text")
FETCH_TIMEOUT = 10.0  # seconds, for connecting and for each read
MAX_INPUT_BYTES = 5 * 1024 * 1024
USER_AGENT = "ivig-bot-import/1 (+https://github.com/ivig-bot)"


class ImportProblem(ValueError):
    """The input cannot be made into a document; the message says why, for content staff."""


# --------------------------------------------------------------------------- the document model


@dataclass
class Element:
    kind: str  # "heading", "paragraph" or "list"
    text: str = ""
    items: list[str] = field(default_factory=list)
    ordered: bool = False


@dataclass
class Extracted:
    """What a source said: its own title (if it gives one) and its body as elements."""

    title: str
    elements: list[Element]


# --------------------------------------------------------------------------- type detection


def detect_kind(name: str, data: bytes, content_type: str = "") -> str:
    """html, pdf, docx or text, from the bytes first, then the content type and file name."""
    head = data[:2048].lstrip().lower()
    content_type = content_type.split(";")[0].strip().lower()
    suffix = Path(urllib.parse.urlparse(name).path if "://" in name else name).suffix.lower()
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04") and (suffix == ".docx" or b"word/" in data[:65536] or "wordprocessingml" in content_type):
        return "docx"
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportProblem("this looks like an office file that is not a .docx (e.g. an old .doc or a spreadsheet); "
                            "save it as .docx or PDF and import that")
    if content_type in ("text/html", "application/xhtml+xml") or suffix in (".html", ".htm", ".xhtml"):
        return "html"
    if head.startswith((b"<!doctype html", b"<html")) or b"<body" in head:
        return "html"
    if content_type == "application/pdf" or suffix == ".pdf":
        raise ImportProblem("the file is named or served as a PDF but is not one (it does not start with %PDF-)")
    if suffix == ".docx":
        raise ImportProblem("the file is named .docx but is not a Word document")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "html" if b"<\x00h\x00t\x00m\x00l" in head or b"\x00<\x00h\x00t\x00m\x00l" in head else "text"
    if b"\x00" in data[:8192]:
        raise ImportProblem("this is a binary file of an unknown kind; import HTML, PDF, DOCX or plain text")
    return "text"


def convert(data: bytes, kind: str) -> Extracted:
    """The document in `data` (of `kind`: html, pdf, docx or text) as a title and elements."""
    if kind not in KINDS:
        raise ImportProblem(f"unknown input type {kind!r}; use one of {', '.join(KINDS)}")
    converter = {"html": html_elements, "pdf": pdf_elements, "docx": docx_elements, "text": text_elements}[kind]
    extracted = converter(data)
    extracted.elements = tidy(extracted.elements, extracted.title)
    if not any(e.kind != "heading" for e in extracted.elements):
        raise ImportProblem("no text was found in the document")
    return extracted


# --------------------------------------------------------------------------- HTML


def html_elements(data: bytes) -> Extracted:
    try:
        import trafilatura
        from lxml import etree
    except ImportError as error:  # pragma: no cover - a broken install
        raise ImportProblem(f"HTML import needs trafilatura ({error})") from None
    # load_html decodes by the page's declared charset (or a guess); the tree is loaded twice
    # because extraction prunes it.
    tree = trafilatura.load_html(data)
    if tree is None:
        raise ImportProblem("the HTML page cannot be parsed")
    metadata = trafilatura.extract_metadata(trafilatura.load_html(data))
    xml = trafilatura.extract(tree, output_format="xml", include_comments=False, include_images=False,
                              include_tables=True, include_links=False, include_formatting=False,
                              favor_precision=True, deduplicate=False)
    meta_title = clean(metadata.title) if metadata is not None and metadata.title else ""
    if not xml:
        raise ImportProblem("no main text was found in the HTML page")
    root = etree.fromstring(xml.encode("utf-8"))
    main = root.find("main")
    if main is None:
        main = root
    for line_break in root.iter("lb"):  # <br> inside a paragraph: a space, as in the browser
        line_break.tail = " " + (line_break.tail or "")
    elements: list[Element] = []
    title = ""

    def walk(node) -> None:
        nonlocal title
        for child in node:
            tag = child.tag if isinstance(child.tag, str) else ""
            if tag == "head":
                heading = clean(all_text(child))
                if heading and child.get("rend", "").lower() == "h1" and not title:
                    title = heading
                elif heading:
                    elements.append(Element("heading", heading))
            elif tag == "p" or tag == "quote":
                paragraph = clean(all_text(child))
                if paragraph:
                    elements.append(Element("paragraph", paragraph))
            elif tag == "list":
                items = list_items(child)
                if items:
                    elements.append(Element("list", items=items, ordered=child.get("rend", "") == "ol"))
            elif tag == "table":
                for row in child.iter("row"):
                    cells = [clean(all_text(cell)) for cell in row if isinstance(cell.tag, str)]
                    cells = [c for c in cells if c]
                    if cells:
                        elements.append(Element("paragraph", " — ".join(cells)))
            elif tag in ("div", "section", "main"):
                walk(child)
            elif tag in ("code",):
                paragraph = clean(all_text(child))
                if paragraph:
                    elements.append(Element("paragraph", paragraph))

    def list_items(node) -> list[str]:
        items: list[str] = []
        for item in node:
            if not isinstance(item.tag, str) or item.tag != "item":
                continue
            own = clean(all_text(item, skip="list"))
            if own:
                items.append(own)
            for sub in item:
                if sub.tag == "list":  # a nested list: its items follow, flattened
                    items.extend(list_items(sub))
        return items

    def all_text(node, skip: str = "") -> str:
        parts = [node.text or ""]
        for sub in node:
            if isinstance(sub.tag, str) and sub.tag != skip:
                parts.append(all_text(sub))
            parts.append(sub.tail or "")
        return "".join(parts)

    walk(main)
    return Extracted(title=title or meta_title, elements=elements)


# --------------------------------------------------------------------------- PDF


def pdf_elements(data: bytes) -> Extracted:
    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError
    except ImportError as error:  # pragma: no cover - a broken install
        raise ImportProblem(f"PDF import needs pypdf ({error})") from None
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                reader.decrypt("")
            except Exception:
                raise ImportProblem("the PDF is password-protected; save an unprotected copy and import that") from None
        pages = [page.extract_text(extraction_mode="layout") or "" for page in reader.pages]
        meta_title = ""
        if reader.metadata is not None and reader.metadata.title:
            meta_title = clean(str(reader.metadata.title))
    except ImportProblem:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as error:
        raise ImportProblem(f"the PDF cannot be read ({type(error).__name__}); is it damaged?") from None
    if not pages:
        raise ImportProblem("the PDF has no pages")
    if sum(len(p.split()) for p in pages) < 3:
        raise ImportProblem("the PDF has no text layer: it looks like a scan (pictures of pages). "
                            "Run it through OCR (e.g. ocrmypdf) first, or import the original document")
    pages = [strip_page_furniture(p) for p in pages]
    lines = [line.rstrip() for page in pages for line in page.splitlines()]  # indents tell wrapped list items
    extracted = text_lines_to_elements(lines, headings=pdf_headings(reader))
    if is_placeholder_title(meta_title):
        meta_title = ""
    return Extracted(title=meta_title or extracted.title, elements=extracted.elements)


BOLD_FONT = re.compile(r"bold|black|heavy|semibold|demi", re.I)


def pdf_headings(reader) -> set[str]:
    """Lines set larger than the body text, or in bold where the body is not: the PDF's headings.

    Empty when the fonts tell nothing (then headings are recognised by their shape alone).
    """
    pieces: list[tuple[str, float, bool]] = []

    def visit(text, cm, tm, font, size) -> None:
        if not text.strip():
            return
        scale = abs(tm[0] * tm[3] - tm[1] * tm[2]) ** 0.5 * abs(cm[0] * cm[3] - cm[1] * cm[2]) ** 0.5
        name = str(font.get("/BaseFont", "")) if font else ""
        for line in text.splitlines():
            if line.strip():
                pieces.append((clean(line), round(float(size) * (scale or 1.0), 1), bool(BOLD_FONT.search(name))))

    try:
        for page in reader.pages:
            page.extract_text(visitor_text=visit)
    except Exception:  # fonts are a hint only; never let them stop an import
        return set()
    if not pieces:
        return set()
    weight: dict[tuple[float, bool], int] = {}
    for text, size, bold in pieces:
        weight[(size, bold)] = weight.get((size, bold), 0) + len(text)
    body_size, body_bold = max(weight, key=weight.get)
    return {text for text, size, bold in pieces
            if (size >= body_size * 1.15 or (bold and not body_bold and size >= body_size * 0.95))
            and heading_like(text, 80, alone=True)}


PAGE_NUMBER = re.compile(r"^\s*(page\s+)?\d{1,4}(\s*(of|/)\s*\d{1,4})?\s*$", re.I)


def strip_page_furniture(page: str) -> str:
    """Drop page-number lines at the top or bottom of a page."""
    lines = page.rstrip().splitlines()
    while lines and (not lines[-1].strip() or PAGE_NUMBER.match(lines[-1])):
        lines.pop()
    while lines and (not lines[0].strip() or PAGE_NUMBER.match(lines[0])):
        lines.pop(0)
    return "\n".join(lines) + "\n\n"


def is_placeholder_title(title: str) -> bool:
    lowered = title.lower()
    return (not title or lowered in ("untitled", "document", "title") or lowered.startswith("microsoft word -")
            or lowered.endswith((".doc", ".docx", ".pdf", ".indd")))


# --------------------------------------------------------------------------- DOCX


def docx_elements(data: bytes) -> Extracted:
    try:
        import docx
        from docx.opc.exceptions import PackageNotFoundError
    except ImportError as error:  # pragma: no cover - a broken install
        raise ImportProblem(f"DOCX import needs python-docx ({error})") from None
    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError, OSError) as error:
        raise ImportProblem(f"the Word file cannot be read ({type(error).__name__}); is it a real .docx?") from None
    except Exception as error:  # zipfile.BadZipFile, lxml errors
        raise ImportProblem(f"the Word file cannot be read ({type(error).__name__}); is it a real .docx?") from None
    title = clean(document.core_properties.title or "")
    style_title = ""
    elements: list[Element] = []
    for paragraph in document.paragraphs:
        text = clean(paragraph.text)
        if not text:
            continue
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        lowered = style.lower()
        numbered = paragraph._p.pPr is not None and paragraph._p.pPr.numPr is not None
        if lowered == "title":
            style_title = style_title or text
        elif lowered.startswith("heading"):
            elements.append(Element("heading", text))
        elif lowered.startswith("list") or numbered:
            ordered = "number" in lowered
            if elements and elements[-1].kind == "list" and elements[-1].ordered == ordered:
                elements[-1].items.append(text)
            else:
                elements.append(Element("list", items=[text], ordered=ordered))
        else:
            elements.append(Element("paragraph", text))
    if not title and not style_title and elements and elements[0].kind == "heading":
        style_title = elements.pop(0).text
    return Extracted(title=title or style_title, elements=elements)


# --------------------------------------------------------------------------- plain text (and PDF text)


def text_elements(data: bytes) -> Extracted:
    return text_lines_to_elements(decode_text(data).splitlines())


BULLET = re.compile(r"^(?:[•◦▪▫●○■□‣⁃∙·*+\-–—\x7f\uf0b7\uf0a7\uf076\uf0d8\uf0fc]|\(?\d{1,3}[.)]|\(?[a-z][.)])\s+")
ORDERED = re.compile(r"^\(?\d{1,3}[.)]\s+")
SENTENCE_END = re.compile(r"[.!?:;,]['\"’”)]*$")


def text_lines_to_elements(lines: Iterable[str], headings: set[str] | None = None) -> Extracted:
    """Lines of text (blank lines between paragraphs) -> title and elements.

    A short line standing alone, or leading a block, without closing punctuation is a heading;
    a line starting with a bullet or a number starts a list item; other lines are joined into
    paragraphs, mending words hyphenated at a line end. `headings`, when the source's fonts tell
    which lines are headings (a PDF), decides instead of the lines' shape.
    """
    lines = [unglue(normalise_spaces(line)) for line in lines]
    blocks: list[list[str]] = [[]]
    for line in lines:
        if is_debris(line):  # a share button or copyright line is its own block, dropped by tidy()
            blocks.extend([[line.strip()], []])
        elif line.strip():
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    blocks = [b for b in blocks if b]
    full_text = "\n".join(lines)
    widths = sorted(len(line.strip()) for block in blocks for line in block)
    typical = widths[int(len(widths) * 0.8)] if widths else 80

    blocks = drop_leading_menu(blocks)
    elements: list[Element] = []
    for block in blocks:
        elements.extend(block_elements(block, typical, full_text, headings or None))
    title = ""
    if elements and elements[0].kind == "heading":
        title = elements.pop(0).text
    return Extracted(title=title, elements=elements)


def block_elements(block: list[str], typical: int, full_text: str, headings: set[str] | None = None) -> list[Element]:
    out: list[Element] = []
    stripped = [line.strip() for line in block]
    raw = block

    def is_heading(line: str, following: str, alone: bool) -> bool:
        if headings is not None:
            return clean(line) in headings
        if alone:
            return heading_like(line, typical, alone=True)
        return bool(following and heading_like(line, typical, alone=False)
                    and (following[:1].isupper() or following[:1].isdigit() or BULLET.match(following)))

    if len(stripped) == 1 and is_heading(stripped[0], "", alone=True):
        return [Element("heading", clean(stripped[0]))]
    paragraph: list[str] = []
    items: list[list[str]] = []
    ordered = False
    bullet_indent = 0

    def flush_paragraph() -> None:
        if paragraph:
            out.append(Element("paragraph", join_lines(paragraph, full_text)))
            paragraph.clear()

    def flush_list() -> None:
        if items:
            out.append(Element("list", items=[join_lines(i, full_text) for i in items], ordered=ordered))
            items.clear()

    for index, line in enumerate(stripped):
        following = stripped[index + 1] if index + 1 < len(stripped) else ""
        indent = len(raw[index]) - len(raw[index].lstrip())
        bullet = BULLET.match(line)
        if bullet and not (line[0] in "*+-" and len(line) > 1 and line[1] == line[0]):
            flush_paragraph()
            if not items:
                ordered = bool(ORDERED.match(line))
            items.append([line[bullet.end():]])
            bullet_indent = indent
        elif items and (indent > bullet_indent or line[:1].islower()):
            items[-1].append(line)  # a list item wrapped onto the next line (hanging indent)
        elif (headings is not None or not paragraph) and is_heading(line, following, alone=False):
            flush_paragraph()
            flush_list()
            out.append(Element("heading", clean(line)))
        else:
            flush_list()
            paragraph.append(line)
    flush_paragraph()
    flush_list()
    return out


def heading_like(line: str, typical: int, alone: bool) -> bool:
    words = line.split()
    if not words or len(words) > 12 or len(line) > 90:
        return False
    if not (line[0].isupper() or line[0].isdigit()):
        return False
    if BULLET.match(line) and not re.match(r"^\d+(\.\d+)*\.?\s+[A-Z]", line):
        return False
    if SENTENCE_END.search(line) and not line.endswith("?"):
        return False
    # A line of a wrapped paragraph runs (nearly) the full width; a heading is short.
    return alone or len(line) < 0.7 * max(typical, 40)


MENU_WORDS = 5


def drop_leading_menu(blocks: list[list[str]]) -> list[list[str]]:
    """A block of three or more short unpunctuated lines before any prose is site navigation."""
    kept: list[list[str]] = []
    prose_seen = False
    for block in blocks:
        lines = [line.strip() for line in block]
        if (not prose_seen and len(lines) >= 3 and not any(BULLET.match(line) for line in lines)
                and all(len(line.split()) <= MENU_WORDS and not SENTENCE_END.search(line) for line in lines)):
            continue
        if any(len(line.split()) > 12 for line in lines):
            prose_seen = True
        kept.append(block)
    return kept


def join_lines(lines: list[str], full_text: str) -> str:
    """Rejoin a paragraph broken across lines, mending words hyphenated at the line end."""
    text = ""
    for line in lines:
        line = line.strip()
        if not text:
            text = line
            continue
        match = re.search(r"(\w+)-$", text)
        if match and line[:1].islower() and re.match(r"\w", line):
            first = match.group(1)
            rest = re.match(r"\w+", line).group(0)
            if re.search(rf"\b{re.escape(first)}-{re.escape(rest)}\b", full_text.replace(f"{first}-\n", "")):
                text = text + line  # a real compound ("long-term") used elsewhere: keep its hyphen
            else:
                text = text[:-1] + line
        else:
            text = f"{text} {line}"
    return clean(text)


GLUED = re.compile(r"\b([a-z]{3,})([A-Z][a-z]{2,})")


def unglue(line: str) -> str:
    """'immunoglobulinImmunoglobulin Therapy' (an image's alt text glued to a heading) -> the heading."""
    return GLUED.sub(lambda m: m.group(2) if m.group(1) == m.group(2).lower() else m.group(0), line)


# --------------------------------------------------------------------------- debris and tidying

SHARE = re.compile(r"^(share( this( page| article| post)?)?|tweet( this)?|pin it|print( this( page)?)?|email( this)?|"
                   r"facebook|twitter|linkedin|whatsapp|skip to (main )?content|back to top|read more|"
                   r"share on (facebook|twitter|linkedin|x)|follow us)\s*[!:.]?$", re.I)
COPYRIGHT = re.compile(r"^(©|\(c\)\s|copyright\b|all rights reserved)", re.I)


def is_debris(text: str) -> bool:
    """Lines a page's frame leaves behind: share buttons, copyright lines, 'A | B | C' link rows."""
    text = text.strip()
    if SHARE.match(text) or COPYRIGHT.match(text):
        return True
    parts = [p.strip() for p in re.split(r"\s+[|•·]\s+", text)]
    return len(parts) >= 3 and all(0 < len(p.split()) <= 4 and not SENTENCE_END.search(p) for p in parts)


def tidy(elements: list[Element], title: str) -> list[Element]:
    """Drop debris lines, a caption left just above the footer, and headings with nothing under them."""
    cleaned: list[Element] = []
    for element in elements:
        if element.kind == "list":
            items = [i for i in element.items if not is_debris(i)]
            if items:
                cleaned.append(Element("list", items=items, ordered=element.ordered))
        elif is_debris(element.text):
            # A short unpunctuated line just above the page footer is an image caption or a link.
            while cleaned and cleaned[-1].kind == "heading":
                cleaned.pop()
            cleaned.append(Element("debris"))
        else:
            cleaned.append(element)
    cleaned = [e for e in cleaned if e.kind != "debris"]
    result: list[Element] = []
    for index, element in enumerate(cleaned):
        if element.kind == "heading":
            following = cleaned[index + 1] if index + 1 < len(cleaned) else None
            if following is None or following.kind == "heading":
                continue  # a heading with no text under it answers nothing
            if not result and element.text == title:
                continue
        result.append(element)
    return result


# --------------------------------------------------------------------------- Markdown output


def to_document(extracted: Extracted, *, publisher: str, doc_id: str, title: str = "", url: str = "") -> str:
    """The corpus Markdown file: front matter, the title as `#`, sections as `##`, lists as lists."""
    title = clean(title) or extracted.title
    if not title:
        raise ImportProblem("the document has no title of its own; give one with --title")
    if not clean(publisher):
        raise ImportProblem("no publisher: give one with --publisher")
    meta: dict[str, str] = {"id": doc_id, "title": title, "publisher": clean(publisher)}
    if url:
        meta["url"] = url
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=10_000)
    body = [f"# {escape(title)}"]
    for element in extracted.elements:
        if element.kind == "heading":
            body.append(f"## {escape(element.text)}")
        elif element.kind == "paragraph":
            body.append(escape(element.text, start=True))
        elif element.kind == "list":
            if element.ordered:
                body.append("\n".join(f"{n}. {escape(item)}" for n, item in enumerate(element.items, start=1)))
            else:
                body.append("\n".join(f"- {escape(item)}" for item in element.items))
    return f"---\n{front}---\n\n" + "\n\n".join(body) + "\n"


INLINE_SPECIAL = re.compile(r"([\\`*_\[\]<])|&(?=#?\w+;)")
BLOCK_START = re.compile(r"^(#{1,6}(\s|$)|>|[-+*](\s|$)|\d{1,9}[.)](\s|$)|={3,}|-{3,}|~~~|```)")


def escape(text: str, start: bool = False) -> str:
    """Text that reads back word for word through the Markdown parser (no stray emphasis or links)."""
    text = INLINE_SPECIAL.sub(lambda m: "\\" + m.group(0), text)
    if start and (number := re.match(r"^\d{1,9}(?=[.)](\s|$))", text)):
        text = number.group(0) + "\\" + text[number.end():]  # "1\\. ..." is not a list item
    elif start and BLOCK_START.match(text):
        text = "\\" + text
    return text


# --------------------------------------------------------------------------- small helpers


def decode_text(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def normalise_spaces(line: str) -> str:
    return line.replace("\u00a0", " ").replace("\u00ad", "").replace("\t", "    ").rstrip()


def clean(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text.replace("\u00ad", "")).split())


def slug(name: str) -> str:
    """A document id from a file name or URL path: 'IVIG Leaflet (2024).pdf' -> 'ivig-leaflet-2024'."""
    stem = Path(name).stem
    if "://" in name:
        parsed = urllib.parse.urlparse(name)
        last = parsed.path.rstrip("/").rsplit("/", 1)[-1]
        stem = Path(last).stem if last else (parsed.hostname or "document")
    ascii_name = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    text = re.sub(r"[^A-Za-z0-9]+", "-", ascii_name).strip("-").lower()
    return text[:100] or "document"


def is_url(source: str) -> bool:
    return source.lower().startswith(("http://", "https://"))


def fetch(url: str, timeout: float = FETCH_TIMEOUT, max_bytes: int = MAX_INPUT_BYTES) -> tuple[bytes, str, str]:
    """GET an http(s) URL: (body, content type, final URL). Bounded in time and size."""
    if not is_url(url):
        raise ImportProblem(f"{url}: only http:// and https:// addresses can be fetched")
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "*/*"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            final = response.geturl()
            if not is_url(final):
                raise ImportProblem(f"{url}: redirected to a non-web address")
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise ImportProblem(f"{url}: larger than the import limit of {max_bytes:,} bytes")
            data = response.read(max_bytes + 1)
            if len(data) > max_bytes:
                raise ImportProblem(f"{url}: larger than the import limit of {max_bytes:,} bytes")
            return data, response.headers.get("Content-Type", ""), final
    except urllib.error.HTTPError as error:
        raise ImportProblem(f"{url}: the server answered {error.code} {error.reason}") from None
    except urllib.error.URLError as error:
        raise ImportProblem(f"{url}: cannot be fetched ({error.reason})") from None
    except TimeoutError:
        raise ImportProblem(f"{url}: no answer within {timeout:g} s") from None
    except OSError as error:
        raise ImportProblem(f"{url}: cannot be fetched ({type(error).__name__})") from None


def read_source(source: str, max_bytes: int = MAX_INPUT_BYTES) -> tuple[bytes, str, str]:
    """(bytes, content type, source URL or '') for a file path or an http(s) URL."""
    if is_url(source):
        data, content_type, final = fetch(source, max_bytes=max_bytes)
        return data, content_type, final
    from .files import FileRefused, read_limited

    path = Path(source)
    try:
        return read_limited(path, max_bytes), "", ""
    except FileRefused as error:
        if "larger than" in str(error):
            raise ImportProblem(f"{source}: larger than the import limit of {max_bytes:,} bytes") from None
        raise ImportProblem(str(error)) from None
    except FileNotFoundError:
        raise ImportProblem(f"{source}: no such file") from None
    except IsADirectoryError:
        raise ImportProblem(f"{source}: is a directory, not a file") from None
    except OSError as error:
        raise ImportProblem(f"{source}: cannot be read ({error.strerror or type(error).__name__})") from None


# --------------------------------------------------------------------------- the command


def _fail(lines: list[str], code: int) -> NoReturn:
    for line in lines:
        click.echo(line, err=True)
    sys.exit(code)


@click.command()
@click.argument("sources", nargs=-1, metavar="FILE_OR_URL...")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Corpus directory to write the document(s) into.")
@click.option("--publisher", default=None, help="Who published the document; shown with every passage (required).")
@click.option("--title", default=None, help="Title (default: the document's own).")
@click.option("--url", default=None, help="Where the document lives (default: the address it was fetched from).")
@click.option("--id", "doc_id", default=None, help="Document id and file name (default: from the file name).")
@click.option("--force", is_flag=True, help="Overwrite an existing file of the same name.")
def import_command(sources: tuple[str, ...], out_dir: Path | None, publisher: str | None, title: str | None,
                   url: str | None, doc_id: str | None, force: bool) -> None:
    """Turn HTML pages, PDFs, Word files or text into corpus documents."""
    from .documents import ID_PATTERN

    if not sources:
        _fail(["ivig-bot import: give at least one FILE or http(s) URL to import"], 1)
    if out_dir is None:
        _fail(["ivig-bot import: give the corpus directory to write into with --out"], 1)
    if publisher is None or not publisher.strip():
        _fail(["ivig-bot import: --publisher is required (who published the document; "
               "it is shown with every passage)"], 1)
    if len(sources) > 1 and (title or url or doc_id):
        _fail(["ivig-bot import: --title, --url and --id apply to one document; import the files one at a time"], 1)
    if doc_id is not None and not ID_PATTERN.match(doc_id):
        _fail([f"ivig-bot import: id {doc_id!r} may use only letters, digits, '.', '_' and '-'"], 1)
    if url is not None and not is_url(url):
        _fail([f"ivig-bot import: --url {url!r} must start with https:// or http://"], 1)
    if out_dir.exists() and not out_dir.is_dir():
        _fail([f"ivig-bot import: {out_dir} is not a directory"], 1)

    failed = 0
    for source in sources:
        try:
            import_one(source, out_dir, publisher=publisher, title=title or "", url=url or "", doc_id=doc_id,
                       force=force)
        except ImportProblem as problem:
            failed += 1
            click.echo(f"ivig-bot import: {problem}", err=True)
    if failed:
        sys.exit(2)
    check_corpus(out_dir)


def import_one(source: str, out_dir: Path, *, publisher: str, title: str, url: str, doc_id: str | None,
               force: bool) -> Path:
    from .documents import DocumentError, document_paths, parse_document
    from .passages import make_passages

    data, content_type, fetched_from = read_source(source)
    try:
        kind = detect_kind(source, data, content_type)
        extracted = convert(data, kind)
    except ImportProblem as problem:
        raise ImportProblem(f"{source}: {problem}") from None
    except Exception as error:  # a library failing on odd input must not become a traceback
        raise ImportProblem(f"{source}: cannot be read as {kind_name(data, source)} ({type(error).__name__})") from None
    doc_id = doc_id or slug(fetched_from or source)
    try:
        markdown = to_document(extracted, publisher=publisher, doc_id=doc_id, title=title, url=url or fetched_from)
    except ImportProblem as problem:
        raise ImportProblem(f"{source}: {problem}") from None
    target = out_dir / f"{doc_id}.md"
    try:
        document = parse_document(markdown.encode("utf-8"), target)
    except DocumentError as error:
        raise ImportProblem(f"{source}: the result does not pass the corpus check: {error}") from None
    if target.exists() and not force:
        raise ImportProblem(f"{source}: {target} already exists; pass --force to replace it (or --id to choose "
                            "another name)")
    if out_dir.is_dir():
        for other in document_paths(out_dir):
            if other.resolve() == target.resolve():
                continue
            try:
                other_id = parse_document(other.read_bytes(), other).id
            except (DocumentError, OSError):
                continue
            if other_id == doc_id:
                raise ImportProblem(f"{source}: id {doc_id!r} is already used by {other.name}; choose another with --id")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        target.write_text(markdown, encoding="utf-8")
    except OSError as error:
        raise ImportProblem(f"{target}: cannot be written ({error.strerror or type(error).__name__})") from None

    passages = make_passages([document])
    sections = list(dict.fromkeys(p.section for p in passages))
    click.echo(f"wrote {target} ({kind}): id {document.id!r}, title {document.title!r}, "
               f"{len(sections)} section(s), {len(passages)} passage(s)")
    for number, passage in enumerate(passages, start=1):
        preview = " ".join(passage.text.split())
        if len(preview) > 90:
            preview = preview[:87].rstrip() + "..."
        click.echo(f"  [{number}] {passage.section}: {preview}")
    return target


def kind_name(data: bytes, source: str) -> str:
    try:
        return detect_kind(source, data)
    except ImportProblem:
        return "a document"


def check_corpus(out_dir: Path) -> None:
    """The same check as `ivig-bot check`'s corpus loading, on the whole directory."""
    from .documents import CorpusError, load_corpus

    try:
        documents = load_corpus(out_dir)
    except CorpusError as error:
        _fail([f"ivig-bot import: written, but the corpus in {out_dir} has {len(error.problems)} problem(s):",
               *(f"  - {p}" for p in error.problems)], 2)
    click.echo(f"ok: {len(documents)} documents in {out_dir}; run `ivig-bot check --corpus {out_dir}` "
               "and restart the server to use them")
