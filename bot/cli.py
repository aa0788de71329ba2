"""The `ivig-bot` command: a thin layer over the library (serve, ask, check, eval)."""
from __future__ import annotations

import csv
import io
import json
import logging
import sys
import textwrap
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from . import logs
from .analysis import SynonymsError
from .config import Settings, SettingsError, log_format, log_level
from .dialogue import Dialogue, build_dialogue
from .documents import CorpusError
from .intents import IntentsError
from .state import StateError
from .triage import TriageError
from .understanding import Models

if TYPE_CHECKING:
    from flask import Flask

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


LOAD_ERRORS = (CorpusError, SynonymsError, TriageError, IntentsError, StateError, SettingsError)


def load_problems(settings: Settings, error: Exception) -> list[str]:
    """What stops a corpus from loading, one line per problem, for a person to fix."""
    if isinstance(error, CorpusError):
        return [f"ivig-bot: the corpus in {settings.corpus_dir} cannot be loaded ({len(error.problems)} problem(s)):",
                *(f"  - {p}" for p in error.problems)]
    return [f"ivig-bot: {error}"]


def load_dialogue(settings: Settings, models: Models | None = None) -> Dialogue:
    """Load and index the corpus and the data files, or stop with every problem listed (exit status 2)."""
    try:
        return build_dialogue(settings, models)
    except LOAD_ERRORS as error:
        fail(load_problems(settings, error))


def output_only() -> None:
    """For commands whose output is read or parsed: start-up notes are for servers; warnings stay."""
    root = logging.getLogger()
    root.setLevel(max(root.level, logging.WARNING))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ivig-bot", prog_name="ivig-bot", message="%(prog)s %(version)s")
def main() -> None:
    """ivig-bot: patient questions answered from the clinic's own documents."""
    try:
        level, fmt = log_level(), log_format()
    except SettingsError as error:
        fail([f"ivig-bot: {error}"])
    logs.set_up(level, fmt)


@main.command()
@corpus_option
@synonyms_option
@click.option("--host", default=None, help="Address to listen on (default: $IVIG_BOT_HOST or 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port (default: $PORT or 8000).")
@click.option("--workers", type=click.IntRange(1, 64), default=None, help="Worker processes (default: $IVIG_BOT_WORKERS or 2).")
def serve(corpus: Path | None, synonyms: Path | None, host: str | None, port: int | None, workers: int | None) -> None:
    """Start the web server (gunicorn with gevent workers) on the corpus. SIGHUP reloads the corpus."""
    settings = load_settings(corpus_dir=corpus, synonyms_file=synonyms, host=host, port=port, workers=workers)
    try:
        settings.check_web_dir()
    except SettingsError as error:
        fail([f"ivig-bot: {error}"])
    from .serving import Server, prepare_metrics

    prepare_metrics(settings)  # before anything imports prometheus-client
    from .web import create_app

    started = time.perf_counter()
    models = Models.load(settings.index_cache_dir)  # the dictionary and embedding outlive corpus reloads
    logging.getLogger("bot.cli").info("loaded the English dictionary and the embedding in %.2f s",
                                      time.perf_counter() - started)
    # Built once here, before gunicorn forks: every worker shares the loaded index.
    app = create_app(settings, load_dialogue(settings, models))
    click.echo(f"ivig-bot: serving {settings.corpus_dir} on http://{settings.host}:{settings.port} "
               f"with {settings.workers} worker(s)", err=True)
    Server(app, settings, rebuild=lambda: rebuilt_app(settings, models)).run()


def rebuilt_app(settings: Settings, models: Models) -> "Flask | None":
    """The app on the corpus as it is now, or None, with every problem logged, if it cannot load."""
    from .web import create_app

    try:
        return create_app(settings, build_dialogue(settings, models))
    except LOAD_ERRORS as error:
        for line in load_problems(settings, error):
            logging.getLogger("bot.cli").error("%s", line)
    return None


@main.command()
@click.argument("question")
@corpus_option
@synonyms_option
@click.option("--json", "as_json", is_flag=True, help="Print the same JSON the API returns.")
def ask(question: str, corpus: Path | None, synonyms: Path | None, as_json: bool) -> None:
    """Ask one question and print the answer."""
    output_only()
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
    if response["support"]:
        lines += ["", *textwrap.wrap(response["support"]["message"], width)]
    if response["suggestions"]:
        lines += ["", "You could also ask: " + " | ".join(response["suggestions"])]
    lines += ["", *textwrap.wrap(response["disclaimer"], width)]
    return "\n".join(lines)


@main.command()
@corpus_option
@click.option("--days", type=click.IntRange(1, 3650), default=30, show_default=True, help="How many days back.")
@click.option("--format", "fmt", type=click.Choice(["text", "csv", "json"]), default="text", show_default=True,
              help="csv lists the unanswered term sets only.")
def report(corpus: Path | None, days: int, fmt: str) -> None:
    """What patients asked that the documents did not answer, and answers rated unhelpful."""
    output_only()
    from .insights import open_insights
    from .search import Query

    settings = load_settings(corpus_dir=corpus)
    if settings.insights == "off":
        fail(["ivig-bot: insights are off (IVIG_BOT_INSIGHTS=off): nothing was recorded"])
    dialogue = load_dialogue(settings)
    searcher = dialogue.searcher
    insights = open_insights(settings.insights, settings.insights_url, settings.state_dir, searcher.fingerprint,
                             dialogue.signing_key, settings.insights_retention_days)
    try:
        data = insights.report(days)
    except Exception as error:  # noqa: BLE001 - any storage problem is one clear line
        fail([f"ivig-bot: the insights store cannot be read ({type(error).__name__})"])

    def where(passage: int) -> str:
        p = searcher.passages[passage]
        return f"{p.title} — {p.section}"

    for row in data["unanswered"]:
        query = Query(tuple((t, 1.0) for t in row["terms"]), tuple((t, 1.0) for t in row["terms"]))
        row["closest_sections"] = list(dict.fromkeys(where(h.id) for h in searcher.rank(query, 3)))
    for row in data["not_helpful"]:
        row["section"] = where(row["passage"]) if row["passage"] < len(searcher.passages) else "(no longer in the corpus)"
    if fmt == "json":
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    elif fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["terms", "count", "closest_sections"])
        for row in data["unanswered"]:
            writer.writerow([" ".join(row["terms"]), row["count"], " | ".join(row["closest_sections"])])
        click.echo(out.getvalue(), nl=False)
    else:
        click.echo(f"Last {days} day(s)")
        for day in data["per_day"]:
            click.echo(f"  {day['day']}: {day['total']} replies; answered {day['answer']:.0%}, no match {day['no_match']:.0%}, "
                       f"urgent {day['urgent']:.0%}, personal {day['personal']:.0%}")
        click.echo("Unanswered (content terms only, never the message):")
        for row in data["unanswered"]:
            click.echo(f"  {row['count']:4}  {' '.join(row['terms'])}  -> closest: {'; '.join(row['closest_sections']) or 'nothing'}")
        click.echo("Answers rated not helpful:")
        for row in data["not_helpful"]:
            click.echo(f"  {row['not_helpful']:4} no / {row['helpful']} yes  {row['section']}")


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
from .importing import import_command  # noqa: E402
main.add_command(import_command, name="import")
