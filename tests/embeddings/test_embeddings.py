"""The MiniLM embedder and the query batcher a server uses."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from advisor.embeddings.batcher import BatchingEmbedder
from advisor.embeddings.embedder import SentenceTransformerEmbedder
from advisor.errors import OverloadedError


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


def test_onnx_runtime_gives_the_torch_vectors(
    embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    onnx = SentenceTransformerEmbedder(
        name=embedder.name, path=embedder.path, runtime="onnx", onnx_dir=tmp_path
    )
    texts = [
        "What does a beekeeper earn?",
        "glass",
        "A lighthouse keeper " * 120,  # longer than the model's 256 tokens: truncated alike
        "Annealing: finished pieces cool slowly in an oven so that they do not crack.",
    ]
    got = onnx.embed(texts)
    assert onnx._onnx is not None  # the ONNX path ran, not a silent fallback
    assert np.abs(got - embedder.embed(texts)).max() < 1e-5
    assert np.abs(onnx.embed_query(texts[0]) - embedder.embed_query(texts[0])).max() < 1e-5
    exported = list(tmp_path.glob("encoder-*.onnx"))
    assert len(exported) == 1 and not list(tmp_path.glob(".*tmp"))


def test_a_damaged_onnx_file_is_exported_again(
    embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    first = SentenceTransformerEmbedder(
        name=embedder.name, path=embedder.path, runtime="onnx", onnx_dir=tmp_path
    )
    first.embed(["prime the export"])
    (exported,) = tmp_path.glob("encoder-*.onnx")
    exported.write_bytes(b"not an onnx graph")
    again = SentenceTransformerEmbedder(
        name=embedder.name, path=embedder.path, runtime="onnx", onnx_dir=tmp_path
    )
    vector = again.embed_query("a question after the damage")
    assert again._onnx is not None and exported.stat().st_size > 1_000_000
    assert np.abs(vector - embedder.embed_query("a question after the damage")).max() < 1e-5


def test_queries_awaited_on_an_event_loop_share_batches(
    embedder: SentenceTransformerEmbedder,
) -> None:
    batcher = BatchingEmbedder(embedder, max_batch=8)
    questions = [f"which skills does career {i} need?" for i in range(12)]

    async def ask_all() -> list[np.ndarray]:
        return await asyncio.gather(*(batcher.embed_query_async(q) for q in questions))

    got = asyncio.run(ask_all())
    for q, vector in zip(questions, got, strict=True):
        assert np.allclose(vector, embedder.embed_query(q), atol=1e-4), q


class GatedEmbedder:
    """A fake embedder whose passes wait for ``gate``: it holds the batcher's worker busy."""

    name = "gated"
    dim = 4

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.started = threading.Event()
        self.batches: list[list[str]] = []

    def embed(self, texts, *, progress: bool = False) -> np.ndarray:  # noqa: ANN001
        self.started.set()
        self.gate.wait(timeout=30)
        self.batches.append(list(texts))
        return np.array([[len(t), 0, 0, 1] for t in texts], dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


def test_a_full_queue_refuses_at_once_and_recovers() -> None:
    inner = GatedEmbedder()
    batcher = BatchingEmbedder(inner, max_batch=2, max_waiting=3, timeout=10)
    first = batcher.submit("x")
    assert inner.started.wait(10)  # the worker holds "x" and waits at the gate
    queued = [batcher.submit("q" * n) for n in range(1, 4)]
    started = time.perf_counter()
    with pytest.raises(OverloadedError) as info:
        batcher.submit("one too many")
    assert time.perf_counter() - started < 0.5 and info.value.retry_after >= 1
    assert "3 searches are already waiting" in str(info.value)
    inner.gate.set()
    assert first.result(10)[0] == 1
    assert [f.result(10)[0] for f in queued] == [1, 2, 3]
    assert batcher.embed_query("after")[0] == 5


def test_a_query_that_waits_too_long_times_out() -> None:
    inner = GatedEmbedder()
    batcher = BatchingEmbedder(inner, timeout=0.2)
    batcher.submit("holds the worker")
    assert inner.started.wait(10)
    started = time.perf_counter()
    with pytest.raises(OverloadedError, match="within 0.2 s"):
        batcher.embed_query("waits")
    with pytest.raises(OverloadedError):
        asyncio.run(batcher.embed_query_async("waits on a loop"))
    assert time.perf_counter() - started < 2
    inner.gate.set()
    batcher.timeout = 10
    assert batcher.embed_query("later")[0] == 5


def test_cancelled_waiters_do_not_kill_the_worker() -> None:
    inner = GatedEmbedder()
    batcher = BatchingEmbedder(inner, max_batch=8, timeout=10)
    batcher.submit("holds the worker")
    assert inner.started.wait(10)

    async def give_up() -> None:
        task = asyncio.ensure_future(batcher.embed_query_async("cancelled while queued"))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(give_up())
    gone = batcher.submit("cancelled by its thread")
    assert gone.cancel()
    inner.gate.set()
    # Before: set_result on the cancelled futures raised InvalidStateError in the worker,
    # and every later search hung.
    assert batcher.embed_query("still served")[0] == len("still served")
    assert batcher._worker.is_alive()
    assert ["cancelled while queued"] not in inner.batches
    assert all("cancelled" not in text for batch in inner.batches for text in batch)
