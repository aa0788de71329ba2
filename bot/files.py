"""Reading the files content staff give us, safely: regular files only, and only so big.

A corpus directory is edited by people and tools: it can hold a FIFO that would block a read
forever, a symlink to /dev/zero that never ends, or a 2 GB export. Every corpus file and the
synonyms file go through `read_limited`, which refuses those with a message naming the file.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path


DEFAULT_MAX_BYTES = 4 * 1024 * 1024


class FileRefused(OSError):
    """A file the bot will not read; the message says why, for content staff."""


def read_limited(path: Path, max_bytes: int) -> bytes:
    # O_NONBLOCK: opening a FIFO must not wait for a writer. It changes nothing for regular files.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused(f"{path.name}: not a regular file (a directory, pipe or device); only plain files are read")
        data = handle.read(max_bytes + 1)  # the size can change between fstat and read
        if info.st_size > max_bytes or len(data) > max_bytes:
            raise FileRefused(f"{path.name}: larger than the limit of {max_bytes:,} bytes "
                              "(IVIG_BOT_MAX_DOCUMENT_BYTES); split it into smaller documents")
        return data
