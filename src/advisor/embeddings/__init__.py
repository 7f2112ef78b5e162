"""Embeddings: the model that turns passages and questions into vectors, for the index it builds
and the searches that query it.

- ``embedder.py``     the ``Embedder`` protocol and the sentence-transformers embedder
                      (all-MiniLM-L6-v2 by default; torch and ONNX Runtime imported lazily)
- ``onnx_encoder.py`` the ONNX Runtime path of an embedder: export once, then encode
- ``batcher.py``      query encoding for a busy server: batched, bounded, timed out

Exports ``Embedder``, ``Vectors``, ``SentenceTransformerEmbedder``, ``resolve_model`` and
``BatchingEmbedder``.
"""

from advisor.embeddings.batcher import BatchingEmbedder
from advisor.embeddings.embedder import (
    Embedder,
    SentenceTransformerEmbedder,
    Vectors,
    resolve_model,
)

__all__ = ["BatchingEmbedder", "Embedder", "SentenceTransformerEmbedder", "Vectors",
           "resolve_model"]
