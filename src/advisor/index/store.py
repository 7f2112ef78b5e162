"""The on-disk format of an index: its files and manifest, reusing a previous build's vectors,
and loading.

``<index_dir>/<name>`` is a link to a versioned folder (``folders.py``); a load resolves the
link once and reads every file from that one folder.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from advisor.corpus import ChunkerSettings, sha256_bytes
from advisor.embeddings import Embedder, Vectors
from advisor.errors import IndexCorruptError, IndexMismatchError, IndexMissingError
from advisor.index.ann import VectorIndex, read_faiss
from advisor.index.bm25 import Bm25Index, read_bm25
from advisor.types import Chunk, Document, Section

log = logging.getLogger(__name__)

FORMAT = 3
FILES = (
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
    faiss_index: VectorIndex
    bm25: Bm25Index
    sentence_vectors: Vectors
    #: The chunk position of each sentence vector.
    sentence_owner: npt.NDArray[np.int64]
    sentence_index: VectorIndex
    by_id: dict[str, int] = field(default_factory=dict)
    #: The versioned folder every file was read from (``path`` is the link to it).
    folder: Path | None = None

    def __post_init__(self) -> None:
        self.by_id = {c.chunk_id: i for i, c in enumerate(self.chunks)}


def embed_key(text: str) -> str:
    """The key a text's vector is stored and reused under: the sha256 of the text."""
    return sha256_bytes(text.encode())


def expected_settings(embedder: Embedder, chunker: ChunkerSettings) -> dict[str, Any]:
    """The part of a manifest that must match for an index to be used."""
    return {
        "format": FORMAT,
        "embedder": {"name": embedder.name, "dim": embedder.dim},
        "chunker": chunker.as_dict(),
    }


def library_versions() -> dict[str, str]:
    """Versions of the libraries an index depends on."""
    out = {}
    for name in ("faiss-cpu", "bm25s", "sentence-transformers", "torch", "advisor"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


# ---------------------------------------------------------------- writing


def write_manifest(target: Path, fields: dict[str, Any]) -> None:
    """Write the manifest, last: a folder without one is an unfinished build."""
    manifest = {
        **fields,
        "libraries": library_versions(),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "build_id": target.name.lstrip("."),  # /readyz shows it; a server reloads on change
    }
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")


def write_documents(target: Path, documents: Iterable[Document]) -> None:
    """``documents.jsonl``: every document of the index, its text included."""
    with (target / "documents.jsonl").open("w", encoding="utf-8") as fh:
        for doc in documents:
            fh.write(json.dumps(asdict(doc), ensure_ascii=False) + "\n")


def chunk_line(chunk: Chunk, key: str) -> str:
    """A line of ``chunks.jsonl``: the chunk and the key of its vector."""
    return json.dumps({**asdict(chunk), "embed_key": key}, ensure_ascii=False) + "\n"


def sentence_line(owner: int, key: str) -> str:
    """A line of ``sentences.jsonl``: the chunk a sentence vector belongs to and its key."""
    return json.dumps({"owner": owner, "embed_key": key}) + "\n"


def read_previous(
    link: Path, wanted: dict[str, Any]
) -> tuple[dict[str, Any], list[str], Vectors] | None:
    """Manifest, embedding keys and vectors of the current index, if compatible."""
    try:
        manifest = json.loads((link / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("embedder") != wanted["embedder"] or manifest.get("format") != FORMAT:
            return None
        keys = [json.loads(line)["embed_key"] for line in _lines(link / "chunks.jsonl")]
        vectors = np.load(link / "vectors.npy")
        sentence_keys = [json.loads(line)["embed_key"] for line in _lines(link / "sentences.jsonl")]
        sentence_vectors = np.load(link / "sentence_vectors.npy")
        if len(keys) != len(vectors) or len(sentence_keys) != len(sentence_vectors):
            return None
        return manifest, keys + sentence_keys, np.concatenate([vectors, sentence_vectors])
    except (OSError, ValueError, KeyError):
        return None


# ---------------------------------------------------------------- loading


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
            return _load_folder(link, folder, expected_settings(embedder, chunker))
        except (IndexMissingError, IndexCorruptError):
            if attempt == 2 or Path(os.path.realpath(link)) == folder:
                raise
            log.info("index %s was replaced while loading; loading the new one", link)
    raise AssertionError("unreachable")


def _load_folder(path: Path, folder: Path, wanted: dict[str, Any]) -> Index:
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
    for key, value in wanted.items():
        if manifest.get(key) != value:
            raise IndexMismatchError(
                f"index at {path} was built with {key}={manifest.get(key)!r}, "
                f"but the settings ask for {value!r}: {rebuild}"
            )
    missing = [f for f in FILES if not (folder / f).is_file()]
    if missing or not (folder / "bm25").is_dir():
        raise IndexCorruptError(f"index at {path} lacks {', '.join(missing) or 'bm25/'}: {rebuild}")
    try:
        index = Index(
            path=path,
            folder=folder,
            manifest=manifest,
            documents={d.doc_id: d for d in map(_document, _records(folder / "documents.jsonl"))},
            chunks=[_chunk(raw) for raw in _records(folder / "chunks.jsonl")],
            vectors=np.load(folder / "vectors.npy"),
            faiss_index=read_faiss(str(folder / "dense.faiss")),
            bm25=read_bm25(str(folder / "bm25")),
            sentence_vectors=np.load(folder / "sentence_vectors.npy"),
            sentence_owner=np.array(
                [raw["owner"] for raw in _records(folder / "sentences.jsonl")], dtype=np.int64
            ),
            sentence_index=read_faiss(str(folder / "sentences.faiss")),
        )
    except Exception as exc:  # noqa: BLE001 - any parse failure means the same to the user
        raise IndexCorruptError(
            f"index at {path} is corrupt ({type(exc).__name__}: {exc}): {rebuild}"
        ) from exc
    n, owners = len(index.chunks), index.sentence_owner
    sizes_agree = n == len(index.vectors) == index.faiss_index.ntotal == manifest.get("n_chunks")
    sentences_agree = len(owners) == len(index.sentence_vectors) == index.sentence_index.ntotal
    if not (sizes_agree and sentences_agree and (not len(owners) or int(owners.max()) < n)):
        raise IndexCorruptError(f"index at {path} has inconsistent sizes: {rebuild}")
    return index


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in _lines(path)]


def _document(raw: dict[str, Any]) -> Document:
    raw = dict(raw)
    raw["sections"] = tuple(
        Section(**{**s, "path": tuple(s["path"])}) for s in raw.get("sections", ())
    )
    return Document(**raw)


def _chunk(raw: dict[str, Any]) -> Chunk:
    fields = {k: v for k, v in raw.items() if k != "embed_key"}
    return Chunk(**{**fields, "heading_path": tuple(raw["heading_path"])})
