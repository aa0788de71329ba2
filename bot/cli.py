"""The `ivig-bot` command: a thin layer over the library (serve, ask, check, eval)."""
from __future__ import annotations

import json
import logging
import sys
import textwrap
from pathlib import Path
from typing import Any, NoReturn

import click

from .analysis import SynonymsError
from .config import Settings, SettingsError, log_level
from .dialogue import Dialogue, build_dialogue
from .documents import CorpusError
from .intents import IntentsError
from .state import StateError
from .triage import TriageError

corpus_option = click.option("--corpus", type=click.Path(path_type=Path, file_okay=False),
                             help="Directory of *.md documents (default: $IVIG_BOT_CORPUS or the built-in corpus).")
synonyms_option = click.option("--synonyms", type=click.Path(path_type=Path, dir_okay=False),
                               help="Synonyms file (default: $IVIG_BOT_SYNONYMS or synonyms.txt in the corpus).")


def fail(lines: list[str], code: int = 2) -> NoReturn:
    for line in lines:
        click.echo(line, err=True)
    sys.exit(code)


def load_settings(**overrides: Any) -> Settings:
    try:
        return Settings.from_env().with_overrides(**overrides)
    except SettingsError as error:
        fail([f"ivig-bot: {error}"])


def load_dialogue(settings: Settings) -> Dialogue:
    """Load and index the corpus and the data files, or stop with every problem listed (exit status 2)."""
    try:
        return build_dialogue(settings)
    except CorpusError as error:
        fail([f"ivig-bot: the corpus in {settings.corpus_dir} cannot be loaded ({len(error.problems)} problem(s)):",
              *(f"  - {p}" for p in error.problems)])
    except (SynonymsError, TriageError, IntentsError, StateError, SettingsError) as error:
        fail([f"ivig-bot: {error}"])


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """ivig-bot: patient questions answered from the clinic's own documents."""
    try:
        level = log_level()
    except SettingsError as error:
        fail([f"ivig-bot: {error}"])
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@main.command()
@corpus_option
@synonyms_option
@click.option("--host", default=None, help="Address to listen on (default: $IVIG_BOT_HOST or 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port (default: $PORT or 8000).")
@click.option("--workers", type=click.IntRange(1, 64), default=None, help="Worker processes (default: $IVIG_BOT_WORKERS or 2).")
def serve(corpus: Path | None, synonyms: Path | None, host: str | None, port: int | None, workers: int | None) -> None:
    """Start the web server (gunicorn with gevent workers) on the corpus."""
    from .serving import Server
    from .web import create_app

    settings = load_settings(corpus_dir=corpus, synonyms_file=synonyms, host=host, port=port, workers=workers)
    # Built once here, before gunicorn forks: every worker shares the loaded index.
    app = create_app(settings, load_dialogue(settings))
    click.echo(f"ivig-bot: serving {settings.corpus_dir} on http://{settings.host}:{settings.port} "
               f"with {settings.workers} worker(s)", err=True)
    Server(app, settings).run()


@main.command()
@click.argument("question")
@corpus_option
@synonyms_option
@click.option("--json", "as_json", is_flag=True, help="Print the same JSON the API returns.")
def ask(question: str, corpus: Path | None, synonyms: Path | None, as_json: bool) -> None:
    """Ask one question and print the answer."""
    settings = load_settings(corpus_dir=corpus, synonyms_file=synonyms)
    if not question.strip():
        fail(["ivig-bot: the question is empty"], code=1)
    if len(question) > settings.max_message_chars:
        fail([f"ivig-bot: the question is longer than {settings.max_message_chars} characters"], code=1)
    dialogue = load_dialogue(settings)
    response = dialogue.to_json(dialogue.respond(question))
    if as_json:
        click.echo(json.dumps(response, indent=2, ensure_ascii=False))
        return
    click.echo(render_text(response))


def render_text(response: dict[str, Any]) -> str:
    width = 88
    lines: list[str] = []
    if response["urgent"]:
        lines += ["!! " + response["urgent"]["title"].upper() + " !!", *textwrap.wrap(response["urgent"]["message"], width), ""]
    lines += textwrap.wrap(response["reply"], width)
    for number, passage in enumerate(response["passages"], start=1):
        source = passage["source"]
        lines.append("")
        lines.append(f"[{number}] {source['title']} — {source['section']} ({source['publisher']})")
        for paragraph in passage["text"].split("\n"):
            lines += textwrap.wrap(paragraph, width, initial_indent="    ", subsequent_indent="    ")
        if source["url"]:
            lines.append(f"    {source['url']}")
        if source["caveat"]:
            lines += textwrap.wrap(f"Note from the publisher: {source['caveat']}", width, initial_indent="    ",
                                   subsequent_indent="    ")
    if response["suggestions"]:
        lines += ["", "You could also ask: " + " | ".join(response["suggestions"])]
    lines += ["", *textwrap.wrap(response["disclaimer"], width)]
    return "\n".join(lines)


@main.command()
@corpus_option
@synonyms_option
def check(corpus: Path | None, synonyms: Path | None) -> None:
    """Validate the corpus and print how many documents and passages it has."""
    settings = load_settings(corpus_dir=corpus, synonyms_file=synonyms)
    searcher = load_dialogue(settings).searcher
    synonyms_file = settings.resolved_synonyms_file
    click.echo(f"ok: {searcher.document_count} documents, {len(searcher.passages)} passages in {settings.corpus_dir}")
    click.echo(f"synonyms: {synonyms_file if synonyms_file else 'none'}")
