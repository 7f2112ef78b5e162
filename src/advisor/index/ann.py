"""The vector search structures: a FAISS inner-product index, exact or approximate."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from advisor.embeddings import Vectors

if TYPE_CHECKING:
    import faiss

ANN_KINDS = ("flat", "hnsw", "ivf")


class VectorIndex(Protocol):
    """What search asks of a FAISS index."""

    @property
    def ntotal(self) -> int:
        """Vectors held."""
        ...

    def search(
        self, x: Vectors, k: int
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
        """Scores and positions of the ``k`` nearest rows for each query row (-1: none)."""
        ...


def build_faiss(vectors: Vectors, kind: str = "flat") -> faiss.Index:
    """A FAISS inner-product index over normalised vectors: exact, HNSW or IVF."""
    import faiss

    n, dim = vectors.shape
    index: Any
    if kind == "flat" or n == 0:
        index = faiss.IndexFlatIP(dim)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 128
    elif kind == "ivf":
        nlist = max(1, min(int(4 * np.sqrt(n)), n // 39))
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.train(vectors)
        index.nprobe = max(1, nlist // 16)
    else:
        raise ValueError(f"unknown ANN kind {kind!r}; choose one of {ANN_KINDS}")
    if n:
        index.add(vectors)
    built: faiss.Index = index
    return built


def write_faiss(index: faiss.Index, path: str) -> None:
    """Save a FAISS index to a file."""
    import faiss

    faiss.write_index(index, path)


def read_faiss(path: str) -> VectorIndex:
    """Load a FAISS index from a file."""
    import faiss

    index: VectorIndex = faiss.read_index(path)
    return index
