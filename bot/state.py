"""What the bot keeps between starts: the key that signs conversation contexts.

Nothing of a patient's is ever kept. The key is random, made on the first start and written
with owner-only permissions, so nobody can forge a context from public information. Replicas
behind one proxy must agree on it: give them the same IVIG_BOT_SECRET_KEY.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

KEY_FILE = "context-key"


class StateError(OSError):
    """The state directory or its key file cannot be used."""


def context_key(state_dir: Path) -> str:
    """The stored key, made now (0600, atomically) if this is the first start."""
    path = state_dir / KEY_FILE
    try:
        state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return read_key(path)
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(secrets.token_hex(32) + "\n")
        return read_key(path)
    except OSError as error:
        raise StateError(f"cannot keep the context key in {state_dir} ({error.strerror or error}); "
                         "set IVIG_BOT_STATE_DIR to a writable directory or IVIG_BOT_SECRET_KEY") from None


def read_key(path: Path) -> str:
    if not path.is_file():
        raise StateError(f"{path} is not a regular file")
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)  # someone loosened it: tighten rather than refuse to start
    key = path.read_text(encoding="ascii", errors="replace").strip()
    if len(key) < 32:
        raise StateError(f"{path} holds no usable key; delete it and a new one is made")
    return key
