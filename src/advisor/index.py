"""Build, save and load the FAISS + BM25 index of a corpus, with its manifest.

Layout: ``<index_dir>/<name>`` is a symlink to a versioned folder, so a new build is
written aside, flushed to disk and swapped in with one atomic rename; a build killed half-way
leaves the previous index in place. One build of a name runs at a time: it holds the file lock
``<index_dir>/.<name>.lock`` (the CLI, the server's build-if-missing and the K8s index Job all
build through ``build_index``), and a load resolves the link once and reads every file from
that one folder.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from advisor.careers import career_name
from advisor.chunking import ChunkerSettings, chunk_corpus, search_text, sentence_texts
from advisor.corpus import sha256_bytes
from advisor.embeddings import Embedder, Vectors
from advisor.errors import (
    IndexBusyError,
    IndexCorruptError,
    IndexMismatchError,
    IndexMissingError,
)
from advisor.types import Chunk, Document, Section

log = logging.getLogger(__name__)

FORMAT = 3
ANN_KINDS = ("flat", "hnsw", "ivf")
# bm25s's longer English list (NLTK's: question words, pronouns, auxiliaries too), for
# telling apart sentences by the words of a question that matter.
QUESTION_STOPWORDS = "en_plus"
_FILES = (
    "manifest.json",
    "chunks.jsonl",
    "documents.jsonl",
    "vectors.npy",
    "dense.faiss",
    "sentences.jsonl",
    "sentence_vectors.npy",
    "sentences.faiss",
)


@dataclass
class Index:
    """A loaded index: chunks, their vectors, the FAISS and BM25 structures."""

    path: Path
    manifest: dict[str, Any]
    documents: dict[str, Document]
    chunks: list[Chunk]
    vectors: Vectors
    faiss_index: Any
    bm25: Any
    sentence_vectors: Vectors
    sentence_owner: Any  # int array: the chunk position of each sentence vector
    sentence_index: Any
    by_id: dict[str, int] = field(default_factory=dict)
    #: The versioned folder every file was read from (``path`` is the link to it).
    folder: Path | None = None

    def __post_init__(self) -> None:
        self.by_id = {c.chunk_id: i for i, c in enumerate(self.chunks)}


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


def library_versions() -> dict[str, str]:
    """Versions of the libraries an index depends on."""
    out = {}
    for name in ("faiss-cpu", "bm25s", "sentence-transformers", "torch", "advisor"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


# ---------------------------------------------------------------- FAISS and BM25 pieces


def build_faiss(vectors: Vectors, kind: str = "flat") -> Any:
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
    return index


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def bm25_tokenize(texts: Sequence[str], *, return_ids: bool = True, stopwords: str = "en") -> Any:
    """Tokens for BM25: lower-cased, English stop words out, Snowball-stemmed."""
    import bm25s

    return bm25s.tokenize(
        list(texts),
        stopwords=stopwords,
        stemmer=_stemmer(),
        return_ids=return_ids,
        show_progress=False,
    )


def build_bm25(texts: Sequence[str]) -> Any:
    """A bm25s index over the chunks' search texts."""
    import bm25s

    retriever = bm25s.BM25()
    retriever.index(bm25_tokenize(texts), show_progress=False)
    return retriever


# ---------------------------------------------------------------- build


def _document_record(doc: Document) -> dict[str, Any]:
    return asdict(doc)


def _document_from(raw: dict[str, Any]) -> Document:
    raw = dict(raw)
    raw["sections"] = tuple(
        Section(**{**s, "path": tuple(s["path"])}) for s in raw.get("sections", ())
    )
    return Document(**raw)


def _chunk_from(raw: dict[str, Any]) -> Chunk:
    return Chunk(**{**raw, "heading_path": tuple(raw["heading_path"])})


def expected_settings(embedder: Embedder, chunker: ChunkerSettings) -> dict[str, Any]:
    """The part of a manifest that must match for an index to be used."""
    return {
        "format": FORMAT,
        "embedder": {"name": embedder.name, "dim": embedder.dim},
        "chunker": chunker.as_dict(),
    }


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
    with build_lock(index_dir, name, timeout=lock_timeout, on_wait=stage):
        return _build_locked(
            documents,
            embedder=embedder,
            index_dir=index_dir,
            name=name,
            chunker=chunker or ChunkerSettings(),
            ann=ann,
            progress=progress,
            force=force,
            stage=stage,
        )


@contextmanager
def build_lock(
    index_dir: Path,
    name: str,
    *,
    timeout: float = 3600.0,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the build lock of ``index_dir/name``; say who holds it while waiting."""
    from filelock import FileLock, Timeout

    index_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(index_dir / f".{name}.lock"))
    owner = index_dir / f".{name}.lock.owner"
    try:
        lock.acquire(timeout=0)
    except Timeout:
        holder = _lock_holder(owner)
        if on_wait is not None:
            on_wait(f"index {name}: waiting for the build by {holder} to finish")
        try:
            lock.acquire(timeout=timeout)
        except Timeout:
            raise IndexBusyError(
                f"index {index_dir / name} is still being built by {_lock_holder(owner)} after "
                f"{timeout:.0f} s; wait for it or stop it, then run `advisor index` again"
            ) from None
    try:
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        owner.write_text(json.dumps(record), encoding="utf-8")
        yield
    finally:
        owner.unlink(missing_ok=True)
        lock.release()


def _lock_holder(owner: Path) -> str:
    """Who holds the lock, from the record its holder writes just after taking it."""
    for _ in range(20):  # the holder may be between taking the lock and writing the record
        try:
            record = json.loads(owner.read_text(encoding="utf-8"))
            return f"process {record['pid']} on {record['host']} (since {record['since']})"
        except (OSError, ValueError, KeyError, TypeError):
            time.sleep(0.01)
    return "another process"


def _build_locked(
    documents: Sequence[Document],
    *,
    embedder: Embedder,
    index_dir: Path,
    name: str,
    chunker: ChunkerSettings,
    ann: str,
    progress: bool,
    force: bool,
    stage: Callable[[str], None],
) -> BuildReport:
    started = time.perf_counter()
    link = index_dir / name
    wanted = {**expected_settings(embedder, chunker), "ann": ann}
    doc_hashes = {d.doc_id: d.content_hash for d in documents}
    previous = _read_previous(link, wanted)
    if previous and not force:
        old_manifest, _, _ = previous
        same = all(old_manifest.get(k) == v for k, v in wanted.items())
        if same and old_manifest.get("documents") == doc_hashes:
            return BuildReport(
                link,
                len(documents),
                int(old_manifest["n_chunks"]),
                0,
                int(old_manifest["n_chunks"]),
                (),
                time.perf_counter() - started,
                up_to_date=True,
            )
    stage(f"chunking {len(documents)} documents")
    chunks = chunk_corpus(list(documents), chunker)
    texts = [search_text(c) for c in chunks]
    names = {d.doc_id: career_name(d.title) for d in documents}
    sentences: list[tuple[int, str]] = [
        (i, t) for i, c in enumerate(chunks) for t in sentence_texts(c, names[c.doc_id])
    ]
    keys = [_key(t) for t in texts]
    sentence_keys = [_key(t) for _, t in sentences]
    cache: dict[str, np.ndarray] = {}
    removed: tuple[str, ...] = ()
    if previous:
        old_manifest, old_keys, old_vectors = previous
        cache = {k: old_vectors[i] for i, k in enumerate(old_keys)}
        removed = tuple(sorted(set(old_manifest.get("documents", {})) - set(doc_hashes)))
    wanted_texts = dict(zip(keys, texts, strict=True))
    wanted_texts.update(zip(sentence_keys, (t for _, t in sentences), strict=True))
    todo = [k for k in wanted_texts if k not in cache]
    stage(
        f"embedding {len(todo)} of {len(wanted_texts)} passages and sentences "
        f"({len(wanted_texts) - len(todo)} reused)"
    )
    fresh = embedder.embed([wanted_texts[k] for k in todo], progress=progress)
    for row, k in enumerate(todo):
        cache[k] = fresh[row]
    dim = embedder.dim
    vectors = _stack([cache[k] for k in keys], dim)
    sentence_vectors = _stack([cache[k] for k in sentence_keys], dim)
    stage("writing FAISS and BM25 indexes")
    index_dir.mkdir(parents=True, exist_ok=True)
    target = (
        index_dir
        / f".{name}-{time.strftime('%Y%m%d%H%M%S')}-{os.getpid()}-{time.time_ns() % 10**6}"
    )
    target.mkdir()
    try:
        import faiss

        faiss.write_index(build_faiss(vectors, ann), str(target / "dense.faiss"))
        faiss.write_index(build_faiss(sentence_vectors, ann), str(target / "sentences.faiss"))
        build_bm25(texts).save(str(target / "bm25"))
        np.save(target / "vectors.npy", vectors)
        np.save(target / "sentence_vectors.npy", sentence_vectors)
        with (target / "sentences.jsonl").open("w", encoding="utf-8") as fh:
            for (owner, _), key in zip(sentences, sentence_keys, strict=True):
                fh.write(json.dumps({"owner": owner, "embed_key": key}) + "\n")
        with (target / "chunks.jsonl").open("w", encoding="utf-8") as fh:
            for chunk, key in zip(chunks, keys, strict=True):
                fh.write(json.dumps({**asdict(chunk), "embed_key": key}, ensure_ascii=False) + "\n")
        with (target / "documents.jsonl").open("w", encoding="utf-8") as fh:
            for doc in documents:
                fh.write(json.dumps(_document_record(doc), ensure_ascii=False) + "\n")
        manifest = {
            **wanted,
            "documents": doc_hashes,
            "n_chunks": len(chunks),
            "n_sentences": len(sentences),
            "libraries": library_versions(),
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "build_id": target.name.lstrip("."),  # /readyz shows it; a server reloads on change
        }
        # The manifest is written last: a folder without one is an unfinished build.
        (target / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        # On disk before the link names it: after a power cut the link never points to a
        # folder whose files are still only in the page cache.
        _sync_tree(target)
        _swap_in(link, target)
        _sync_dir(index_dir)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    _remove_stale(index_dir, name, keep=target)
    return BuildReport(
        link,
        len(documents),
        len(chunks),
        len(todo),
        len(wanted_texts) - len(todo),
        removed,
        time.perf_counter() - started,
    )


def _key(text: str) -> str:
    return sha256_bytes(text.encode())


def _stack(rows: list[np.ndarray], dim: int) -> Vectors:
    if not rows:
        return np.zeros((0, dim), dtype=np.float32)
    return np.ascontiguousarray(np.stack(rows), dtype=np.float32)


def _swap_in(link: Path, target: Path) -> None:
    if link.exists() and not link.is_symlink():
        raise IndexCorruptError(f"{link} is a plain folder, not an index link: move it away")
    tmp = link.with_name(f".{link.name}.link-{os.getpid()}")
    if tmp.is_symlink():
        tmp.unlink()
    tmp.symlink_to(target.name)
    os.replace(tmp, link)


def _sync_tree(folder: Path) -> None:
    """fsync every file under ``folder``, then each folder itself."""
    for root, _dirs, files in os.walk(folder):
        for file in files:
            fd = os.open(os.path.join(root, file), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _sync_dir(Path(root))


def _sync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _build_folder(name: str) -> re.Pattern[str]:
    """Versioned folders of exactly this index name ('.default-20250101120000-42-123456'),
    so building 'eval' never touches the folders of 'eval-3f2a'."""
    return re.compile(rf"\.{re.escape(name)}-\d{{14}}-\d+-\d+")


def _remove_stale(index_dir: Path, name: str, *, keep: Path) -> None:
    # The caller holds this name's build lock, so no other build is writing any of these:
    # each is a superseded build or one whose process died.
    pattern = _build_folder(name)
    for old in index_dir.iterdir():
        if old != keep and pattern.fullmatch(old.name) and old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)


def _read_previous(
    link: Path, wanted: dict[str, Any]
) -> tuple[dict[str, Any], list[str], Vectors] | None:
    """Manifest, embedding keys and vectors of the current index, if compatible."""
    try:
        manifest = json.loads((link / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("embedder") != wanted["embedder"] or manifest.get("format") != FORMAT:
            return None
        keys = [
            json.loads(line)["embed_key"]
            for line in (link / "chunks.jsonl").read_text(encoding="utf-8").splitlines()
        ]
        vectors = np.load(link / "vectors.npy")
        sentence_keys = [
            json.loads(line)["embed_key"]
            for line in (link / "sentences.jsonl").read_text(encoding="utf-8").splitlines()
        ]
        sentence_vectors = np.load(link / "sentence_vectors.npy")
        if len(keys) != len(vectors) or len(sentence_keys) != len(sentence_vectors):
            return None
        return manifest, keys + sentence_keys, np.concatenate([vectors, sentence_vectors])
    except (OSError, ValueError, KeyError):
        return None


# ---------------------------------------------------------------- load


def load_index(
    index_dir: Path, name: str, *, embedder: Embedder, chunker: ChunkerSettings
) -> Index:
    """Load ``index_dir/name``; refuse one built with another embedder or chunker.

    The link is resolved once and every file read from that folder. Should a build swap in
    a new folder and remove this one mid-way, the load starts again from the new one.
    """
    link = index_dir / name
    for attempt in range(3):
        folder = Path(os.path.realpath(link))
        try:
            return _load_folder(link, folder, embedder=embedder, chunker=chunker)
        except (IndexMissingError, IndexCorruptError):
            if attempt == 2 or Path(os.path.realpath(link)) == folder:
                raise
            log.info("index %s was replaced while loading; loading the new one", link)
    raise AssertionError("unreachable")


def _load_folder(
    path: Path, folder: Path, *, embedder: Embedder, chunker: ChunkerSettings
) -> Index:
    """Load the index files of ``folder``; messages name the link ``path``."""
    rebuild = f"rebuild it with `advisor index` (index folder {path})"
    if not (folder / "manifest.json").is_file():
        raise IndexMissingError(f"no index at {path}: build it with `advisor index`")
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(
            f"index manifest at {path} is unreadable ({exc}): {rebuild}"
        ) from exc
    wanted = expected_settings(embedder, chunker)
    for key, value in wanted.items():
        if manifest.get(key) != value:
            raise IndexMismatchError(
                f"index at {path} was built with {key}={manifest.get(key)!r}, "
                f"but the settings ask for {value!r}: {rebuild}"
            )
    missing = [f for f in _FILES if not (folder / f).is_file()]
    if missing or not (folder / "bm25").is_dir():
        raise IndexCorruptError(f"index at {path} lacks {', '.join(missing) or 'bm25/'}: {rebuild}")
    try:
        import bm25s
        import faiss

        chunks = [
            _chunk_from({k: v for k, v in json.loads(line).items() if k != "embed_key"})
            for line in (folder / "chunks.jsonl").read_text(encoding="utf-8").splitlines()
        ]
        documents = [
            _document_from(json.loads(line))
            for line in (folder / "documents.jsonl").read_text(encoding="utf-8").splitlines()
        ]
        vectors = np.load(folder / "vectors.npy")
        dense = faiss.read_index(str(folder / "dense.faiss"))
        bm25 = bm25s.BM25.load(str(folder / "bm25"))
        owners = np.array(
            [
                json.loads(line)["owner"]
                for line in (folder / "sentences.jsonl").read_text(encoding="utf-8").splitlines()
            ],
            dtype=np.int64,
        )
        sentence_vectors = np.load(folder / "sentence_vectors.npy")
        sentence_index = faiss.read_index(str(folder / "sentences.faiss"))
    except Exception as exc:  # noqa: BLE001 - any parse failure means the same to the user
        raise IndexCorruptError(
            f"index at {path} is corrupt ({type(exc).__name__}: {exc}): {rebuild}"
        ) from exc
    sizes_agree = len(chunks) == len(vectors) == dense.ntotal == manifest.get("n_chunks")
    sentences_agree = len(owners) == len(sentence_vectors) == sentence_index.ntotal and (
        not len(owners) or int(owners.max()) < len(chunks)
    )
    if not (sizes_agree and sentences_agree):
        raise IndexCorruptError(f"index at {path} has inconsistent sizes: {rebuild}")
    return Index(
        path=path,
        folder=folder,
        manifest=manifest,
        documents={d.doc_id: d for d in documents},
        chunks=chunks,
        vectors=vectors,
        faiss_index=dense,
        bm25=bm25,
        sentence_vectors=sentence_vectors,
        sentence_owner=owners,
        sentence_index=sentence_index,
    )
