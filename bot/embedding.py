"""The offline semantic signal: wordllama's 256-dimension static word embeddings.

The weights and the tokenizer ship inside wordllama's wheel. wordllama's own loader looks for
the tokenizer under `wordllama/tokenizer/` while the wheel installs it under
`wordllama/tokenizers/`, and then downloads it from a model hub; its inference module also
configures the root logger when imported. So we read the two installed files directly and do
the one thing its inference does for us (average the token vectors, then normalise), and
nothing can ever be fetched. tests/test_offline.py proves it with the network cut off.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Sequence

import numpy as np
from safetensors import safe_open
from tokenizers import Tokenizer

WEIGHTS = "weights/l2_supercat_256.safetensors"
TOKENIZER = "tokenizers/l2_supercat_tokenizer_config.json"
DIMENSIONS = 256


def wordllama_dir() -> Path:
    spec = importlib.util.find_spec("wordllama")  # located without importing it (see above)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the wordllama package is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


class Embedder:
    """Text -> unit vectors; similarity is a dot product."""

    def __init__(self, root: Path | None = None) -> None:
        root = root or wordllama_dir()
        for name in (WEIGHTS, TOKENIZER):
            if not (root / name).is_file():
                raise RuntimeError(f"wordllama's installed file is missing: {root / name}")
        self._tokenizer = Tokenizer.from_file(str(root / TOKENIZER))
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()
        with safe_open(str(root / WEIGHTS), framework="np") as weights:
            self._vectors = np.ascontiguousarray(weights.get_tensor("embedding.weight").astype(np.float32))
        self.dimensions = self._vectors.shape[1]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One unit vector per text (zeros for a text with no tokens)."""
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for row, encoding in enumerate(self._tokenizer.encode_batch(list(texts), add_special_tokens=False)):
            ids = [i for i in encoding.ids if 0 <= i < len(self._vectors)]
            if ids:
                vector = self._vectors[ids].mean(axis=0)
                norm = float(np.linalg.norm(vector))
                if norm > 0:
                    out[row] = vector / norm
        return out

    def embed_one(self, text: str) -> np.ndarray:
        return self.embed([text])[0]
