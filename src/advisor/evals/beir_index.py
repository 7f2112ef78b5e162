"""Index a BEIR corpus as it streams: each passage one chunk, in the format of advisor.index.

Memory stays bounded by the index itself: the corpus is read twice line by line (a check that
counts, then batches that are embedded), vectors go straight into memory-mapped ``.npy`` files,
and only the BM25 tokens are held until the end. The ANN setting applies as for any index.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

from advisor.corpus import ChunkerSettings, career_name, search_text, sentence_texts
from advisor.embeddings import Embedder
from advisor.errors import EvaluationError
from advisor.evals.beir import Entry, entry_of, grouped, read_jsonl
from advisor.index import (
    BuildReport,
    bm25_from_tokens,
    build_faiss,
    build_lock,
    chunk_line,
    embed_key,
    expected_settings,
    new_build,
    sentence_line,
    write_documents,
    write_faiss,
    write_manifest,
)
from advisor.text import bm25_tokenize
from advisor.types import Document

BATCH = 256


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _batches(items: Iterable[Entry], size: int) -> Iterator[list[Entry]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def _survey(corpus: Path) -> tuple[int, int, dict[str, Document]]:
    """Check every line before anything is embedded: passages, sentences, documents."""
    seen: set[str] = set()
    n_sentences = 0
    docs: dict[str, tuple[str, str | None, Any]] = {}
    for n, raw in read_jsonl(corpus):
        entry = entry_of(raw, f"{corpus}:{n}", count=False)
        chunk = entry.chunk
        if chunk.chunk_id in seen:
            raise EvaluationError(f"{corpus}:{n}: passage id {chunk.chunk_id!r} appears twice")
        seen.add(chunk.chunk_id)
        n_sentences += len(sentence_texts(chunk, career_name(entry.doc_title)))
        if grouped(raw):
            title, url, digest = docs.setdefault(
                chunk.doc_id, (entry.doc_title, entry.url, hashlib.sha256())
            )
            digest.update(chunk.chunk_id.encode() + b"\x1f" + chunk.text.encode())
    if not seen:
        raise EvaluationError(f"{corpus} holds no passages")
    documents = {
        doc_id: Document(doc_id, doc_id, title, "", url, "", digest.hexdigest(), 0)
        for doc_id, (title, url, digest) in docs.items()
    }
    return len(seen), n_sentences, documents


def build_beir_index(
    corpus: Path,
    *,
    embedder: Embedder,
    index_dir: Path,
    name: str,
    chunker: ChunkerSettings,
    ann: str = "flat",
    progress: bool = False,
    force: bool = False,
    on_stage: Callable[[str], None] | None = None,
    batch: int = BATCH,
    reuse: Iterable[Path] = (),
) -> BuildReport:
    """Build ``index_dir/name`` from a BEIR ``corpus.jsonl``; reuse it while the file and the
    settings are unchanged, and reuse the vectors of any text already embedded there or in the
    ``reuse`` indexes (same embedder)."""
    stage = on_stage or (lambda _msg: None)
    # One build of a name at a time, as for the main index (index.build_lock).
    with build_lock(index_dir, name, on_wait=stage):
        return _build_locked(corpus, embedder=embedder, index_dir=index_dir, name=name,
                             chunker=chunker, ann=ann, progress=progress, force=force,
                             stage=stage, batch=batch, reuse=reuse)


def _build_locked(
    corpus: Path,
    *,
    embedder: Embedder,
    index_dir: Path,
    name: str,
    chunker: ChunkerSettings,
    ann: str,
    progress: bool,
    force: bool,
    stage: Callable[[str], None],
    batch: int,
    reuse: Iterable[Path],
) -> BuildReport:
    started = time.perf_counter()
    link = index_dir / name
    wanted = {**expected_settings(embedder, chunker), "ann": ann}
    digest = file_sha256(corpus)
    try:
        old = json.loads((link / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        old = {}
    if not force and old.get("beir", {}).get("corpus_sha256") == digest and all(
        old.get(k) == v for k, v in wanted.items()
    ):
        n = int(old["n_chunks"])
        return BuildReport(link, len(old.get("documents", {})), n, 0, n, (),
                           time.perf_counter() - started, up_to_date=True)
    stage(f"checking {corpus}")
    n_chunks, n_sentences, documents = _survey(corpus)
    stage(f"embedding {n_chunks} passages and {n_sentences} sentences")
    with new_build(index_dir, name) as target:
        known = reusable([link, *reuse], embedder)
        embedded = _write(corpus, target, embedder, (n_chunks, n_sentences), ann, progress,
                          batch, known)
        del known
        write_documents(target, documents.values())
        write_manifest(target, {
            **wanted,
            "beir": {"corpus": str(corpus.resolve()), "corpus_sha256": digest},
            "documents": {d.doc_id: d.content_hash for d in documents.values()},
            "n_chunks": n_chunks,
            "n_sentences": n_sentences,
        })
    total = n_chunks + n_sentences
    return BuildReport(link, len(documents), n_chunks, embedded, total - embedded, (),
                       time.perf_counter() - started)


Known = dict[str, tuple[Any, int]]  # embed key (first 24 hex digits) -> (vectors, row)


def reusable(folders: Iterable[Path], embedder: Embedder) -> Known:
    """Vectors of other indexes built with the same embedder, by the hash of their text
    (memory-mapped, so nothing is read until a text matches)."""
    known: Known = {}
    wanted = {"name": embedder.name, "dim": embedder.dim}
    for folder in folders:
        try:
            manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
            if manifest.get("embedder") != wanted:
                continue
            for records, vectors in (("chunks.jsonl", "vectors.npy"),
                                     ("sentences.jsonl", "sentence_vectors.npy")):
                array = np.load(folder / vectors, mmap_mode="r")
                with (folder / records).open(encoding="utf-8") as fh:
                    for row, line in enumerate(fh):
                        known.setdefault(json.loads(line)["embed_key"][:24], (array, row))
        except (OSError, ValueError, KeyError):
            continue  # an unreadable index only means more to embed
    return known


def _write(
    corpus: Path,
    target: Path,
    embedder: Embedder,
    sizes: tuple[int, int],
    ann: str,
    progress: bool,
    batch: int,
    known: Known,
) -> int:
    """Embed the corpus batch by batch into memory-mapped vectors; write every index file."""
    from tqdm import tqdm

    n_chunks, n_sentences = sizes
    vectors = np.lib.format.open_memmap(
        target / "vectors.npy", mode="w+", dtype=np.float32, shape=(n_chunks, embedder.dim)
    )
    sentence_vectors = np.lib.format.open_memmap(
        target / "sentence_vectors.npy", mode="w+", dtype=np.float32,
        shape=(n_sentences, embedder.dim),
    )
    tokens: list[list[str]] = []
    row = srow = embedded = 0
    bar = tqdm(total=n_chunks, unit="passage", desc="embedding", disable=not progress)
    with (target / "chunks.jsonl").open("w", encoding="utf-8") as chunks_fh, (
        target / "sentences.jsonl"
    ).open("w", encoding="utf-8") as sentences_fh:
        for entries in _batches(_entries(corpus), batch):
            texts = [search_text(e.chunk) for e in entries]
            sentences = [
                (row + i, t)
                for i, e in enumerate(entries)
                for t in sentence_texts(e.chunk, career_name(e.doc_title))
            ]
            slots = [(vectors, row + i) for i in range(len(texts))]
            slots += [(sentence_vectors, srow + j) for j in range(len(sentences))]
            all_texts = texts + [t for _, t in sentences]
            keys = [embed_key(t) for t in all_texts]
            todo = {k[:24]: t for k, t in zip(keys, all_texts, strict=True) if k[:24] not in known}
            if todo:
                fresh = embedder.embed(list(todo.values()))
                known.update({k: (fresh, i) for i, k in enumerate(todo)})
                embedded += len(todo)
            for (store, at), key in zip(slots, keys, strict=True):
                source, source_row = known[key[:24]]
                store[at] = source[source_row]
                # Later copies read this index's own row, not the batch's array.
                known[key[:24]] = (store, at)
            for e, key in zip(entries, keys, strict=False):
                chunks_fh.write(chunk_line(e.chunk, key))
            for (owner, _), key in zip(sentences, keys[len(texts) :], strict=True):
                sentences_fh.write(sentence_line(owner, key))
            tokens += bm25_tokenize(texts, return_ids=False)
            row += len(texts)
            srow += len(sentences)
            bar.update(len(entries))
    bar.close()
    if row != n_chunks or srow != n_sentences:
        raise EvaluationError(f"{corpus} changed while it was being indexed: run again")
    vectors.flush()
    sentence_vectors.flush()
    write_faiss(build_faiss(vectors, ann), str(target / "dense.faiss"))
    write_faiss(build_faiss(sentence_vectors, ann), str(target / "sentences.faiss"))
    del vectors, sentence_vectors
    # The same tokens as index.bm25.build_bm25 makes from the texts, so the same scores.
    bm25_from_tokens(tokens).save(str(target / "bm25"))
    return embedded


def _entries(corpus: Path) -> Iterator[Entry]:
    for n, raw in read_jsonl(corpus):
        yield entry_of(raw, f"{corpus}:{n}")
