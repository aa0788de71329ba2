"""Stage 1: read the corpus directory into Documents made of headed blocks.

The corpus format is the contract for clinics: every `*.md` file in the directory is a
document with YAML front matter (`id`, `title`, `publisher`, optional `url`, `caveat`,
`license`) and a Markdown body. Loading is all-or-nothing: every bad file is reported at
once, so content staff can fix them in one go instead of one per restart.
"""
from __future__ import annotations

import os

import re
from dataclasses import dataclass
from pathlib import Path

import frontmatter
import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token

from .files import DEFAULT_MAX_BYTES, FileRefused, read_limited

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


@dataclass(frozen=True)
class Block:
    """A paragraph, or a list whose items are kept apart, under its nearest heading."""

    section: str
    paragraph: str = ""
    items: tuple[str, ...] = ()
    questions: tuple[str, ...] = ()  # what content staff say this block answers

    @property
    def is_list(self) -> bool:
        return bool(self.items)


@dataclass(frozen=True)
class Document:
    id: str
    title: str
    publisher: str
    url: str
    caveat: str
    path: str
    blocks: tuple[Block, ...]


class CorpusError(Exception):
    """The corpus cannot be loaded; `problems` names every bad file and what is wrong."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def load_corpus(directory: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> list[Document]:
    """Load every document in `directory`, or raise CorpusError listing every problem."""
    if not directory.is_dir():
        raise CorpusError([f"{directory}: corpus directory not found"])
    paths = document_paths(directory)
    if not paths:
        raise CorpusError([f"{directory}: no *.md documents in the corpus directory"])

    documents: list[Document] = []
    problems: list[str] = []
    first_seen: dict[str, Path] = {}
    for path in paths:
        try:
            document = parse_document(read_limited(path, max_bytes), path)
        except DocumentError as error:
            problems.append(f"{path.name}: {error}")
            continue
        except FileRefused as error:
            problems.append(str(error))
            continue
        except OSError as error:
            problems.append(f"{path.name}: cannot be read ({error.strerror or error.__class__.__name__})")
            continue
        if document.id in first_seen:
            problems.append(f"{path.name}: duplicate id {document.id!r} (also used by {first_seen[document.id].name})")
            continue
        first_seen[document.id] = path
        documents.append(document)
    if problems:
        raise CorpusError(problems)
    return documents


def document_paths(directory: Path) -> list[Path]:
    """The corpus files: `*.md`, leaving out folders and editors' hidden and backup files (".#a.md", "~a.md")."""
    # scandir knows each entry's type without a stat: a library of thousands of files is listed at once.
    with os.scandir(directory) as entries:
        names = [e.name for e in entries if e.name.endswith(".md") and not e.name.startswith((".", "~")) and not e.is_dir()]
    return [directory / name for name in sorted(names)]


class DocumentError(ValueError):
    """One document is unusable; the message says why, in words content staff understand."""


def parse_document(raw: bytes, path: Path) -> Document:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DocumentError(f"not UTF-8 text (bad byte at position {error.start}); save it as UTF-8") from None
    try:
        post = frontmatter.loads(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise DocumentError(f"front matter is not valid YAML{where}") from None
    except Exception as error:  # python-frontmatter raises plain errors for odd shapes
        raise DocumentError(f"front matter cannot be read ({type(error).__name__})") from None
    meta = post.metadata
    if not text.lstrip().startswith("---") or not meta:
        raise DocumentError("no front matter: start the file with a '---' block giving id, title and publisher")

    def field(name: str, required: bool) -> str:
        value = meta.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise DocumentError(f"front matter has no {name!r}")
            return ""
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise DocumentError(f"front matter {name!r} must be text")
        return " ".join(str(value).split())

    doc_id = field("id", required=False) or path.stem
    if not ID_PATTERN.match(doc_id):
        raise DocumentError(f"id {doc_id!r} may use only letters, digits, '.', '_' and '-'")
    title = field("title", required=True)
    publisher = field("publisher", required=True)
    url = field("url", required=False)
    if url and not url.startswith(("https://", "http://")):
        raise DocumentError(f"url {url!r} must start with https:// or http://")
    blocks = tuple(parse_blocks(post.content, title))
    if not blocks:
        raise DocumentError("the body has no text")
    return Document(
        id=doc_id,
        title=title,
        publisher=publisher,
        url=url,
        caveat=field("caveat", required=False),
        path=str(path),
        blocks=blocks,
    )


_MARKDOWN = MarkdownIt("commonmark")


# <!-- questions: How long does an infusion take? | Where is it given? --> before a paragraph or
# list: the questions it answers, in patients' words. Invisible wherever the Markdown is shown.
QUESTIONS_COMMENT = re.compile(r"^\s*<!--\s*questions\s*:(.*?)-->\s*$", re.S | re.I)


def parse_blocks(body: str, title: str) -> list[Block]:
    """Turn Markdown into blocks: headings set the section, lists stay whole, and a questions
    comment belongs to the block after it."""
    tokens = _MARKDOWN.parse(body)
    blocks: list[Block] = []
    section = title
    questions: tuple[str, ...] = ()

    def add(paragraph: str = "", items: tuple[str, ...] = ()) -> None:
        nonlocal questions
        blocks.append(Block(section=section, paragraph=paragraph, items=items, questions=questions))
        questions = ()

    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.type == "heading_open":
            section = inline_text(tokens[i + 1]) or section
            i += 3
        elif token.type == "html_block" and (match := QUESTIONS_COMMENT.match(token.content)):
            questions += tuple(q for q in (" ".join(part.split()) for part in re.split(r"[|\n]", match.group(1))) if q)
            i += 1
        elif token.type in ("bullet_list_open", "ordered_list_open"):
            end = closing_index(tokens, i)
            items = tuple(t for t in (inline_text(tok) for tok in tokens[i:end] if tok.type == "inline") if t)
            if items:
                add(items=items)
            i = end + 1
        elif token.type == "inline":
            text = inline_text(token)
            if text:
                add(paragraph=text)
            i += 1
        elif token.type in ("fence", "code_block"):
            text = " ".join(token.content.split())
            if text:
                add(paragraph=text)
            i += 1
        else:
            i += 1
    return blocks


def closing_index(tokens: list[Token], start: int) -> int:
    """Index of the token closing the container opened at `start`."""
    depth = 0
    for j in range(start, len(tokens)):
        depth += tokens[j].nesting
        if depth == 0:
            return j
    return len(tokens) - 1


def inline_text(token: Token) -> str:
    """The words of an inline token: emphasis and links kept as text, images dropped."""
    parts: list[str] = []
    for child in token.children or ():
        if child.type in ("text", "code_inline", "html_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return " ".join("".join(parts).split())
