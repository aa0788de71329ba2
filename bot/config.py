"""Settings: read once at start-up, then passed down as one frozen object."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping

from .files import DEFAULT_MAX_BYTES

PACKAGE_DIR = Path(__file__).resolve().parent


def bundled(in_wheel: str, in_checkout: str) -> Path:
    """A wheel carries the built-in corpus and web files inside the package (pyproject.toml maps
    them there); a source checkout, or an editable install of one, keeps them at the top level."""
    inside = PACKAGE_DIR / in_wheel
    return inside if inside.is_dir() else PACKAGE_DIR.parent / in_checkout


DEFAULT_CORPUS = bundled("corpus", "corpus")
DEFAULT_WEB_DIR = bundled("web_assets", "web")
# What the demo page and an embedding site fetch: without them `serve` refuses to start.
WEB_FILES = ("index.html", "widget.js", "widget.css", "demo.css")

DEFAULT_DISCLAIMER = (
    "This assistant shares excerpts from patient information documents. It is not medical "
    "advice and does not replace your doctor or care team. If you feel unwell or think you "
    "may have an emergency, contact your care team or call your local emergency number now."
)

ENV_PREFIX = "IVIG_BOT_"
# prometheus-client's own variable: where `serve` tells it to keep each process's counts.
METRICS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
DEFAULT_RATE_LIMIT = "30/minute;500/day"


def default_state_dir() -> Path:
    """$XDG_STATE_HOME/ivig-bot, else ~/.local/state/ivig-bot: where the bot keeps its key."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "ivig-bot"


def rate_limit(raw: str | None) -> str | None:
    """IVIG_BOT_RATE_LIMIT: flask-limiter's syntax, or 'off'. Checked now, not on the first request."""
    if raw is None:
        return DEFAULT_RATE_LIMIT
    if raw.strip().lower() == "off":
        return None
    from limits import parse_many  # flask-limiter's own parser, so the two never disagree

    try:
        if not parse_many(raw):
            raise ValueError
    except ValueError:
        raise SettingsError(f"{ENV_PREFIX}RATE_LIMIT must be like '30/minute;500/day' or 'off', got {raw!r}") from None
    return raw


def storage(raw: str) -> str:
    """IVIG_BOT_RATE_LIMIT_STORAGE: memory:// for one server, a Redis URL for replicas."""
    if not raw.startswith(("memory://", "redis://", "rediss://", "redis+sentinel://", "redis+cluster://")):
        raise SettingsError(f"{ENV_PREFIX}RATE_LIMIT_STORAGE must be memory:// or a redis:// URL")
    return raw


def switch(raw: str | None, name: str, default: str) -> str:
    if raw is None:
        return default
    if raw.strip().lower() not in ("on", "off"):
        raise SettingsError(f"{ENV_PREFIX}{name} must be on or off, got {raw!r}")
    return raw.strip().lower()


def insights_url(raw: str | None) -> str | None:
    if raw is not None and not raw.startswith(("postgresql://", "postgres://", "sqlite:///")):
        raise SettingsError(f"{ENV_PREFIX}INSIGHTS_URL must be a postgresql:// or sqlite:/// URL")
    return raw


def cache_dir(raw: str | None) -> Path | None:
    """IVIG_BOT_INDEX_CACHE must be a directory, or a path where one can be made."""
    if raw is None:
        return None
    path = Path(raw)
    if path.exists() and not path.is_dir():
        raise SettingsError(f"{ENV_PREFIX}INDEX_CACHE must be a directory, but {raw!r} is a file")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise SettingsError(f"{ENV_PREFIX}INDEX_CACHE cannot be made under {str(parent)!r}, which is a file")
            break
    return path


def metrics(raw: str | None) -> str:
    """IVIG_BOT_METRICS: off, on (/metrics on the main port) or HOST:PORT (a listener of its own)."""
    if raw is None or raw.strip().lower() in ("on", "off"):
        return (raw or "off").strip().lower()
    host, sep, port = raw.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise SettingsError(f"{ENV_PREFIX}METRICS must be off, on or HOST:PORT, got {raw!r}")
    return raw.strip()


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("text", "json")


class SettingsError(ValueError):
    """A setting has a value the bot cannot use."""


def log_level(environ: Mapping[str, str] | None = None) -> str:
    """IVIG_BOT_LOG_LEVEL, checked: logging is set up before anything else can report errors."""
    raw = (environ if environ is not None else os.environ).get(ENV_PREFIX + "LOG_LEVEL") or "INFO"
    if raw.upper() not in LOG_LEVELS:
        raise SettingsError(f"{ENV_PREFIX}LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {raw!r}")
    return raw.upper()


def log_format(environ: Mapping[str, str] | None = None) -> str:
    """IVIG_BOT_LOG_FORMAT: text for people, json (one object per line) for log pipelines."""
    raw = (environ if environ is not None else os.environ).get(ENV_PREFIX + "LOG_FORMAT") or "text"
    if raw.lower() not in LOG_FORMATS:
        raise SettingsError(f"{ENV_PREFIX}LOG_FORMAT must be text or json, got {raw!r}")
    return raw.lower()


def contact(value: str | None, name: str) -> str | None:
    """A phone number or short label for a contact; checked because patients will dial it."""
    if value is None:
        return None
    value = value.strip()
    if len(value) > 60 or any(ord(c) < 32 for c in value):
        raise SettingsError(f"{ENV_PREFIX}{name} must be a short phone number or label, got {value[:60]!r}")
    return value or None


@dataclass(frozen=True)
class Settings:
    corpus_dir: Path = DEFAULT_CORPUS
    # None means "<corpus_dir>/synonyms.txt if it exists, else no synonyms".
    synonyms_file: Path | None = None
    disclaimer: str = DEFAULT_DISCLAIMER
    max_message_chars: int = 1000
    max_body_bytes: int = 32 * 1024
    # Origins allowed to call the API from another site (CORS); empty = same origin only.
    allowed_origins: tuple[str, ...] = ()
    # Signs the conversation context. None: a random key made on first start and kept in
    # state_dir (0600); replicas behind one proxy share it by setting the same key.
    secret_key: str | None = None
    state_dir: Path = field(default_factory=default_state_dir)
    # Where the built index is cached between starts; None disables the cache.
    index_cache_dir: Path | None = None
    web_dir: Path = DEFAULT_WEB_DIR
    # A document (or synonyms file) larger than this is refused by name, not read.
    max_document_bytes: int = DEFAULT_MAX_BYTES
    # Per-client limits on /api/chat in flask-limiter's syntax; None switches them off.
    rate_limit: str | None = DEFAULT_RATE_LIMIT
    # Where the counts live: memory:// for one server, redis://host:port for replicas.
    rate_limit_storage: str = "memory://"
    # Insights for content staff (bot/insights.py): "on" or "off"; SQLite in state_dir unless
    # insights_url is a postgresql:// URL; rows older than insights_retention_days are deleted.
    insights: str = "on"
    insights_url: str | None = None
    insights_retention_days: int = 90
    # The clinic's contacts, shown in urgent notices and returned for tel: links. None: a
    # generic wording ("your local emergency number", "your care team").
    emergency_number: str | None = None
    crisis_line: str | None = None
    clinic_phone: str | None = None
    log_level: str = "INFO"
    log_format: str = "text"
    # Prometheus metrics: "off", "on" (at /metrics on the main port) or "HOST:PORT" (apart).
    metrics: str = "off"
    # `serve` only: where gunicorn listens, how many workers, which proxies it trusts.
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 2
    forwarded_allow_ips: str = "127.0.0.1"

    def check_web_dir(self) -> None:
        """The widget's files must be there before the server starts, not 404 on first use."""
        missing = [name for name in WEB_FILES if not (self.web_dir / name).is_file()]
        if missing:
            raise SettingsError(f"the web files are missing from {self.web_dir}: {', '.join(missing)} "
                                f"(set {ENV_PREFIX}WEB_DIR to the folder that holds them)")

    @property
    def metrics_listener(self) -> tuple[str, int] | None:
        """(host, port) when metrics have a listener of their own."""
        if self.metrics in ("on", "off"):
            return None
        host, _, port = self.metrics.rpartition(":")
        return host.strip("[]"), int(port)

    @property
    def resolved_synonyms_file(self) -> Path | None:
        if self.synonyms_file is not None:
            return self.synonyms_file
        candidate = self.corpus_dir / "synonyms.txt"
        # Anything by that name is meant as the synonyms file: a directory there is an error, not "none".
        return candidate if candidate.exists() or candidate.is_symlink() else None

    def with_overrides(self, **changes: object) -> "Settings":
        """Apply command-line options; None means 'not given'."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(ENV_PREFIX + name)
            return value if value not in (None, "") else None

        def get_int(variable: str, default: int, highest: int) -> int:
            raw = env.get(variable)
            if not raw:
                return default
            try:
                value = int(raw)
            except ValueError:
                raise SettingsError(f"{variable} must be a whole number, got {raw!r}") from None
            if not 1 <= value <= highest:
                raise SettingsError(f"{variable} must be between 1 and {highest}, got {value}")
            return value

        defaults = cls()
        origins = get("ALLOWED_ORIGINS")
        return cls(
            corpus_dir=Path(get("CORPUS") or defaults.corpus_dir),
            synonyms_file=Path(s) if (s := get("SYNONYMS")) else None,
            disclaimer=get("DISCLAIMER") or defaults.disclaimer,
            max_message_chars=get_int(ENV_PREFIX + "MAX_MESSAGE_CHARS", defaults.max_message_chars, 100_000),
            max_body_bytes=get_int(ENV_PREFIX + "MAX_BODY_BYTES", defaults.max_body_bytes, 10 * 1024 * 1024),
            allowed_origins=tuple(o.strip().rstrip("/") for o in origins.split(",") if o.strip()) if origins else (),
            secret_key=get("SECRET_KEY"),
            index_cache_dir=cache_dir(get("INDEX_CACHE")),
            state_dir=Path(get("STATE_DIR") or defaults.state_dir),
            web_dir=Path(get("WEB_DIR") or defaults.web_dir),
            max_document_bytes=get_int(ENV_PREFIX + "MAX_DOCUMENT_BYTES", defaults.max_document_bytes, 1024 ** 3),
            rate_limit=rate_limit(get("RATE_LIMIT")),
            rate_limit_storage=storage(get("RATE_LIMIT_STORAGE") or defaults.rate_limit_storage),
            insights=switch(get("INSIGHTS"), "INSIGHTS", defaults.insights),
            insights_url=insights_url(get("INSIGHTS_URL")),
            insights_retention_days=get_int(ENV_PREFIX + "INSIGHTS_RETENTION_DAYS", defaults.insights_retention_days, 3650),
            emergency_number=contact(get("EMERGENCY_NUMBER"), "EMERGENCY_NUMBER"),
            crisis_line=contact(get("CRISIS_LINE"), "CRISIS_LINE"),
            clinic_phone=contact(get("CLINIC_PHONE"), "CLINIC_PHONE"),
            log_level=log_level(env),
            log_format=log_format(env),
            metrics=metrics(get("METRICS")),
            host=get("HOST") or defaults.host,
            port=get_int("PORT", defaults.port, 65535),  # PORT, unprefixed: the hosting platforms' convention
            workers=get_int(ENV_PREFIX + "WORKERS", defaults.workers, 64),
            forwarded_allow_ips=env.get("FORWARDED_ALLOW_IPS") or defaults.forwarded_allow_ips,
        )
