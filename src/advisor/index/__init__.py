"""The index of a corpus on disk: chunks, their vectors, FAISS and BM25, and a manifest.

- ``ann.py``    the FAISS factory (exact, HNSW, IVF) and what search asks of a FAISS index
- ``bm25.py``   the bm25s index: build, load, and what search asks of it
- ``lock.py``   one build of a name at a time (a file lock that names its holder)
- ``folders.py`` versioned build folders: written aside, flushed, swapped in atomically
- ``store.py``  the format: files and manifest, the versioned folder swapped in, loading
- ``build.py``  plan -> embed -> write
"""

from advisor.index.ann import ANN_KINDS, VectorIndex, build_faiss
from advisor.index.bm25 import Bm25Index
from advisor.index.build import BuildReport, build_index
from advisor.index.lock import build_lock
from advisor.index.store import FORMAT, Index, expected_settings, library_versions, load_index

__all__ = [
    "ANN_KINDS",
    "FORMAT",
    "Bm25Index",
    "BuildReport",
    "Index",
    "VectorIndex",
    "build_faiss",
    "build_index",
    "build_lock",
    "expected_settings",
    "library_versions",
    "load_index",
]
