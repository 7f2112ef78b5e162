"""The index of a corpus on disk: chunks, their vectors, FAISS and BM25, and a manifest.

- ``ann.py``    the FAISS factory (exact, HNSW, IVF) and what search asks of a FAISS index
- ``bm25.py``   the bm25s index: build, load, and what search asks of it
- ``lock.py``   one build of a name at a time (a file lock that names its holder)
- ``folders.py`` versioned build folders: written aside, flushed, swapped in atomically
- ``store.py``  the format: files and manifest, the versioned folder swapped in, loading
- ``build.py``  plan -> embed -> write

Exports ``Index`` and ``load_index``, ``build_index`` and its ``BuildReport``, ``build_lock``,
the FAISS and BM25 indexes, and the format's writers (``new_build``, ``write_documents``,
``write_manifest``, ``write_faiss``, ``bm25_from_tokens`` and the lines and keys they write) for
an index written some other way: ``evals.beir_index`` streams a BEIR corpus into one.
"""

from advisor.index.ann import ANN_KINDS, VectorIndex, build_faiss, write_faiss
from advisor.index.bm25 import Bm25Index, bm25_from_tokens
from advisor.index.build import BuildReport, build_index
from advisor.index.folders import new_build
from advisor.index.lock import build_lock
from advisor.index.store import (
    FORMAT,
    Index,
    chunk_line,
    embed_key,
    expected_settings,
    library_versions,
    load_index,
    sentence_line,
    write_documents,
    write_manifest,
)

__all__ = [
    "ANN_KINDS",
    "FORMAT",
    "Bm25Index",
    "BuildReport",
    "Index",
    "VectorIndex",
    "build_faiss",
    "build_index",
    "bm25_from_tokens",
    "build_lock",
    "chunk_line",
    "embed_key",
    "expected_settings",
    "library_versions",
    "load_index",
    "new_build",
    "sentence_line",
    "write_documents",
    "write_faiss",
    "write_manifest",
]
