"""What start-up derives from the corpus and the bot's own files, kept beside the index cache.

Building a large library's index is only part of start-up: the passages' embeddings, the
spelling dictionaries and the learned triage net take far longer than loading them. Each is
saved under IVIG_BOT_INDEX_CACHE with a key naming everything it was made from (the index
fingerprint, and the bot's code and data files), and made again when the key differs or the
file is damaged. A cache is only ever a shortcut: any problem means "make it again".

Arrays are saved with numpy (nothing is unpickled). The spelling dictionaries, large maps of
strings, are saved with marshal: it builds only plain values, never runs code, and reads them
several times faster than JSON. Every file is written readable by the bot's own user only.
"""
from __future__ import annotations

import gc
import hashlib
from importlib import metadata
import logging
import marshal
import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

log = logging.getLogger(__name__)
PACKAGE_DIR = Path(__file__).resolve().parent


# Installed packages whose output is cached (vectors, dictionaries, fitted models): a new
# release of one of them makes every entry stale too.
DERIVED_FROM = ("wordllama", "tokenizers", "symspellpy", "scikit-learn", "numpy")


@lru_cache(maxsize=1)
def code_version() -> str:
    """A digest of the bot's code and data files and of the versions of the packages that make
    what is cached: any change to them makes every entry stale."""
    digest = hashlib.sha256(";".join(f"{name}={metadata.version(name)}" for name in DERIVED_FROM).encode())
    for path in sorted([*PACKAGE_DIR.glob("*.py"), *(PACKAGE_DIR / "data").iterdir()]):
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


@contextmanager
def collection_paused() -> Iterator[None]:
    """Creating a million small objects at once makes the cyclic collector run over and over
    (plain strings and lists hold no cycles): several times slower for nothing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass(frozen=True)
class Cache:
    """One cache directory and the key its entries must carry; no directory means no caching."""
    directory: Path | None
    key: str

    @classmethod
    def for_corpus(cls, directory: Path | None, fingerprint: str) -> "Cache":
        return cls(directory, f"{fingerprint}-{code_version()}")

    def arrays(self, name: str, make: Callable[[], dict[str, np.ndarray]],
               valid: Callable[[dict[str, np.ndarray]], bool] = lambda _: True) -> dict[str, np.ndarray]:
        """`name`'s arrays as saved under this key, or made now (and saved). `valid` checks what
        a query will index into: arrays that fail it are damaged, not trusted half-way."""
        path = self._path(name, ".npz")
        if path is not None and path.exists():
            try:
                with np.load(path, allow_pickle=False) as data:
                    if str(data["__key__"]) == self.key:
                        arrays = {k: data[k] for k in data.files if k != "__key__"}
                        if not valid(arrays):
                            raise ValueError("inconsistent arrays")
                        return arrays
            except Exception as error:  # noqa: BLE001 - zip, zlib, shape: all mean "make it again"
                log.warning("the cached %s in %s is damaged (%s); making it again", name, self.directory,
                            type(error).__name__)
        arrays = make()
        if path is not None:
            self._write(path, lambda out: np.savez(out, __key__=np.asarray(self.key), **arrays))
        return arrays

    def values(self, name: str, make: Callable[[], Any], valid: Callable[[Any], bool] = lambda _: True) -> Any:
        """Like `arrays`, for plain values (dicts, lists, strings and numbers)."""
        path = self._path(name, ".marshal")
        if path is not None and path.exists():
            try:
                key, digest, payload = marshal.loads(path.read_bytes())
                if key == self.key:
                    # marshal has no checksum of its own: a flipped bit would load as other words.
                    if hashlib.sha256(payload).digest() != digest:
                        raise ValueError("checksum mismatch")
                    with collection_paused():
                        value = marshal.loads(payload)
                    if not valid(value):
                        raise ValueError("unexpected contents")
                    return value
            except Exception as error:  # noqa: BLE001
                log.warning("the cached %s in %s is damaged (%s); making it again", name, self.directory,
                            type(error).__name__)
        value = make()
        if path is not None:
            def write(out: Any) -> None:
                payload = marshal.dumps(value)
                out.write(marshal.dumps((self.key, hashlib.sha256(payload).digest(), payload)))

            self._write(path, write)
        return value

    def _path(self, name: str, suffix: str) -> Path | None:
        return self.directory / f"{name}{suffix}" if self.directory is not None else None

    def _write(self, path: Path, write: Callable[[Any], Any]) -> None:
        """Atomically: a reader (another replica starting) sees the old file or the new one."""
        temporary = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as out:
                temporary = out.name
                write(out)
            os.replace(temporary, path)
        except Exception as error:  # noqa: BLE001 - a cache is a shortcut: carry on without it
            log.warning("cannot save %s in the cache (%s)", path.name, type(error).__name__)
            if temporary is not None:
                Path(temporary).unlink(missing_ok=True)


NO_CACHE = Cache(None, "")
