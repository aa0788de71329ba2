from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Callable

import pytest

from bot.config import Settings
from bot import intents, triage
from bot.dialogue import Dialogue
from bot.search import Searcher, build_searcher
from bot.understanding import Models
from bot.web import create_app

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def settings(tmp_path_factory) -> Settings:
    """The built-in corpus, the context key in a temporary state directory, no rate limit."""
    return Settings(state_dir=tmp_path_factory.mktemp("state"), rate_limit=None)


@pytest.fixture(scope="session")
def models() -> Models:
    """The English dictionary and the embedding: loaded once for the whole run (about 3 s)."""
    return Models.load()


@pytest.fixture(scope="session")
def build(models: Models) -> Callable[[Settings], Searcher]:
    """Build a searcher for any settings, sharing the loaded models."""
    words = triage.vocabulary() | intents.vocabulary()
    return lambda settings: build_searcher(settings, models, domain_words=words)


@pytest.fixture(scope="session")
def searcher(settings: Settings, build) -> Searcher:
    return build(settings)


@pytest.fixture(scope="session")
def dialogue(searcher: Searcher, settings: Settings) -> Dialogue:
    return Dialogue(searcher, settings)


@pytest.fixture(scope="session")
def app(settings: Settings, dialogue: Dialogue):
    return create_app(settings, dialogue)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def chat(client) -> Callable[..., dict[str, Any]]:
    """Send one turn to /api/chat and return the JSON, asserting it succeeded."""
    def send(message: str, context: Any = None) -> dict[str, Any]:
        body: dict[str, Any] = {"message": message}
        if context is not None:
            body["context"] = context
        response = client.post("/api/chat", json=body)
        assert response.status_code == 200, response.get_json()
        return response.get_json()
    return send


@pytest.fixture
def make_corpus(tmp_path: Path) -> Callable[[dict[str, str | bytes]], Path]:
    """Write a corpus directory from {file name: content} and return its path."""
    def make(files: dict[str, str | bytes]) -> Path:
        directory = tmp_path / "corpus"
        directory.mkdir(exist_ok=True)
        for name, content in files.items():
            path = directory / name
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        return directory
    return make


def document(doc_id: str, body: str, title: str = "A leaflet", publisher: str = "Test Clinic", extra: str = "") -> str:
    return f"---\nid: {doc_id}\ntitle: \"{title}\"\npublisher: \"{publisher}\"\n{extra}---\n\n{body}\n"


def load_jsonl(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def plain(text: str) -> str:
    """A text as compared for duplicates: case, punctuation and spacing do not count."""
    return " ".join(re.findall(r"[a-z0-9$]+", text.lower()))
