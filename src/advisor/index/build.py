"""Build an index of a corpus: plan (chunks, sentences and the texts to embed), embed (only
what the current index does not already hold), write (a new folder, swapped in).

One build of a name runs at a time: it holds the file lock ``<index_dir>/.<name>.lock``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from advisor.corpus import ChunkerSettings, career_name, chunk_corpus, search_text, sentence_texts
from advisor.embeddings import Embedder, Vectors
from advisor.index.ann import build_faiss, write_faiss
from advisor.index.bm25 import build_bm25
from advisor.index.folders import new_build
from advisor.index.lock import build_lock
from advisor.index.store import (
    chunk_line,
    embed_key,
    expected_settings,
    read_previous,
    sentence_line,
    write_documents,
    write_manifest,
)
from advisor.types import Chunk, Document


@dataclass(frozen=True)
class BuildReport:
    """What a build did."""

    path: Path
    n_documents: int
    n_chunks: int
    embedded: int
    reused: int
    removed_documents: tuple[str, ...]
    seconds: float
    up_to_date: bool = False


@dataclass(frozen=True)
class Plan:
    """What a build writes: the chunks, their sentences, and the key of every text embedded."""

    chunks: list[Chunk]
    texts: list[str]  # each chunk's search text
    sentences: list[tuple[int, str]]  # (chunk position, text) of each indexed sentence
    keys: list[str]
    sentence_keys: list[str]

    @property
    def wanted(self) -> dict[str, str]:
        """Every text to hold a vector for, by key (chunks first, duplicates once)."""
        wanted = dict(zip(self.keys, self.texts, strict=True))
        wanted.update(zip(self.sentence_keys, (t for _, t in self.sentences), strict=True))
        return wanted


def build_index(
    documents: Sequence[Document],
    *,
    embedder: Embedder,
    index_dir: Path,
    name: str = "default",
    chunker: ChunkerSettings | None = None,
    ann: str = "flat",
    progress: bool = False,
    force: bool = False,
    on_stage: Callable[[str], None] | None = None,
    lock_timeout: float = 3600.0,
) -> BuildReport:
    """Build (or refresh) ``index_dir/name``; reuse vectors of unchanged chunks.

    Waits up to ``lock_timeout`` seconds for another build of the same name to finish (then
    usually finds the index up to date) and raises ``IndexBusyError`` naming the holder after.
    """
    stage = on_stage or (lambda _msg: None)
    chunker = chunker or ChunkerSettings()
    with build_lock(index_dir, name, timeout=lock_timeout, on_wait=stage):
        started = time.perf_counter()
        link = index_dir / name
        wanted = {**expected_settings(embedder, chunker), "ann": ann}
        doc_hashes = {d.doc_id: d.content_hash for d in documents}
        previous = read_previous(link, wanted)
        if previous and not force and _up_to_date(previous[0], wanted, doc_hashes):
            n = int(previous[0]["n_chunks"])
            took = time.perf_counter() - started
            return BuildReport(link, len(documents), n, 0, n, (), took, up_to_date=True)
        stage(f"chunking {len(documents)} documents")
        plan = plan_build(documents, chunker)
        cache: dict[str, Any] = {}
        removed: tuple[str, ...] = ()
        if previous:
            old_manifest, old_keys, old_vectors = previous
            cache = {k: old_vectors[i] for i, k in enumerate(old_keys)}
            removed = tuple(sorted(set(old_manifest.get("documents", {})) - set(doc_hashes)))
        embedded = embed_plan(plan, embedder, cache, stage=stage, progress=progress)
        stage("writing FAISS and BM25 indexes")
        with new_build(index_dir, name) as target:
            write_plan(target, plan, cache, dim=embedder.dim, ann=ann)
            write_documents(target, documents)
            write_manifest(target, {
                **wanted,
                "documents": doc_hashes,
                "n_chunks": len(plan.chunks),
                "n_sentences": len(plan.sentences),
            })
        total = len(plan.wanted)
        took = time.perf_counter() - started
        return BuildReport(link, len(documents), len(plan.chunks), embedded, total - embedded,
                           removed, took)


def _up_to_date(manifest: dict[str, Any], wanted: dict[str, Any], docs: dict[str, str]) -> bool:
    same = all(manifest.get(k) == v for k, v in wanted.items())
    return same and manifest.get("documents") == docs


def plan_build(documents: Sequence[Document], chunker: ChunkerSettings) -> Plan:
    """Chunk the documents; list every chunk's and sentence's text with its key."""
    chunks = chunk_corpus(list(documents), chunker)
    texts = [search_text(c) for c in chunks]
    names = {d.doc_id: career_name(d.title) for d in documents}
    sentences = [(i, t) for i, c in enumerate(chunks) for t in sentence_texts(c, names[c.doc_id])]
    return Plan(
        chunks=chunks,
        texts=texts,
        sentences=sentences,
        keys=[embed_key(t) for t in texts],
        sentence_keys=[embed_key(t) for _, t in sentences],
    )


def embed_plan(
    plan: Plan,
    embedder: Embedder,
    cache: dict[str, Any],
    *,
    stage: Callable[[str], None],
    progress: bool,
) -> int:
    """Embed every text of the plan that ``cache`` (key -> vector) lacks, into it; how many."""
    wanted = plan.wanted
    todo = [k for k in wanted if k not in cache]
    stage(
        f"embedding {len(todo)} of {len(wanted)} passages and sentences "
        f"({len(wanted) - len(todo)} reused)"
    )
    fresh = embedder.embed([wanted[k] for k in todo], progress=progress)
    for row, k in enumerate(todo):
        cache[k] = fresh[row]
    return len(todo)


def write_plan(target: Path, plan: Plan, cache: dict[str, Any], *, dim: int, ann: str) -> None:
    """Write the vectors, FAISS and BM25 indexes and the records of chunks and sentences."""
    vectors = _stack([cache[k] for k in plan.keys], dim)
    sentence_vectors = _stack([cache[k] for k in plan.sentence_keys], dim)
    write_faiss(build_faiss(vectors, ann), str(target / "dense.faiss"))
    write_faiss(build_faiss(sentence_vectors, ann), str(target / "sentences.faiss"))
    build_bm25(plan.texts).save(str(target / "bm25"))
    np.save(target / "vectors.npy", vectors)
    np.save(target / "sentence_vectors.npy", sentence_vectors)
    with (target / "sentences.jsonl").open("w", encoding="utf-8") as fh:
        for (owner, _), key in zip(plan.sentences, plan.sentence_keys, strict=True):
            fh.write(sentence_line(owner, key))
    with (target / "chunks.jsonl").open("w", encoding="utf-8") as fh:
        for chunk, key in zip(plan.chunks, plan.keys, strict=True):
            fh.write(chunk_line(chunk, key))


def _stack(rows: list[Any], dim: int) -> Vectors:
    if not rows:
        return np.zeros((0, dim), dtype=np.float32)
    return np.ascontiguousarray(np.stack(rows), dtype=np.float32)

