"""The MiniLM embedder and the query batcher a server uses."""

from __future__ import annotations

import threading

import numpy as np

from advisor.embeddings import BatchingEmbedder, SentenceTransformerEmbedder


def test_vectors_are_normalised(embedder: SentenceTransformerEmbedder) -> None:
    vectors = embedder.embed(["a beekeeper keeps bees", "glass is blown"])
    assert vectors.shape == (2, embedder.dim) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_concurrent_queries_get_their_own_vectors(embedder: SentenceTransformerEmbedder) -> None:
    batcher = BatchingEmbedder(embedder)
    questions = [f"what does career number {i} pay at first?" for i in range(16)]
    expected = {q: embedder.embed_query(q) for q in questions}
    got: dict[str, np.ndarray] = {}

    def ask(q: str) -> None:
        got[q] = batcher.embed_query(q)

    threads = [threading.Thread(target=ask, args=(q,)) for q in questions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert set(got) == set(questions)
    for q in questions:
        assert np.allclose(got[q], expected[q], atol=1e-4), q
    assert batcher.dim == embedder.dim and batcher.name == embedder.name
