"""Catalog: what the corpus holds, for the API and its pages: documents, careers, sections with
their text, passage search and citations, over one retriever and its index.

The API reads the corpus only through this class and ``ChatService`` (which holds one), so the
retriever's and the index's insides can change without touching a route.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import anyio.to_thread

from advisor.embeddings import BatchingEmbedder
from advisor.errors import NotFoundError
from advisor.retrieval.query import Query
from advisor.retrieval.retriever import Retriever
from advisor.types import Citation, Document, Hit, Section


@dataclass(frozen=True)
class SectionText:
    """A section of a document with its body text and link."""

    section: Section
    text: str
    url: str | None


class Catalog:
    """Documents, careers, sections and passage search of one index."""

    def __init__(self, retriever: Retriever) -> None:
        self._retriever = retriever
        self._index = retriever.index

    # ------------------------------------------------------------ the index

    @property
    def size(self) -> int:
        """Passages in the index."""
        return len(self._index.chunks)

    @property
    def link(self) -> Path:
        """The path the index was loaded through (a link that a rebuild repoints)."""
        return self._index.path

    @property
    def build_id(self) -> str:
        """The build id of the index: its manifest's, else its folder's name."""
        folder = Path(os.path.realpath(self._index.path)).name.lstrip(".")
        return str(self._index.manifest.get("build_id") or folder)

    # ------------------------------------------------------------ documents and careers

    def documents(self) -> list[Document]:
        """Every document, in index order."""
        return list(self._index.documents.values())

    def document(self, doc_id: str) -> Document:
        """One document; NotFoundError for an unknown id."""
        doc = self._index.documents.get(doc_id)
        if doc is None:
            raise NotFoundError(f"unknown career {doc_id!r}: see /api/careers")
        return doc

    def name(self, doc_id: str) -> str:
        """A document's career name ("Data Engineer"), else its title."""
        doc = self._index.documents.get(doc_id)
        return self._retriever.careers.names.get(doc_id, doc.title if doc else doc_id)

    def is_career(self, doc_id: str) -> bool:
        """A document named like one career (not a chapter or an overview)."""
        return self._retriever.careers.is_career(doc_id)

    def career_of(self, text: str) -> str | None:
        """The id of the first career a text names, if any."""
        found = self._retriever.careers.find(text)
        return found[0].doc_id if found else None

    def sections(self, doc: Document) -> list[SectionText]:
        """A document's sections, each with the text under its heading."""
        out = []
        for s in doc.sections:
            body_start = doc.source.find("\n", s.start) + 1
            url = f"{doc.url}#{s.anchor}" if doc.url and s.anchor else doc.url
            out.append(SectionText(s, doc.source[body_start : s.end].strip(), url))
        return out

    # ------------------------------------------------------------ passages

    def citation(self, number: int, hit: Hit) -> Citation:
        """A citation for a passage shown under ``number``."""
        c = hit.chunk
        doc = self._index.documents.get(c.doc_id)
        url = f"{doc.url}#{c.anchor}" if doc and doc.url and c.anchor else doc.url if doc else None
        return Citation(number, c.chunk_id, c.doc_id, c.title, c.heading_path, url, c.text,
                        c.start, c.end)

    def search(
        self, text: str, *, k: int, doc_ids: Sequence[str] | None = None
    ) -> tuple[Query, list[Hit]]:
        """The standalone query and its top-k passages (of ``doc_ids`` only, if given)."""
        return self._retriever.search(text, k=k, doc_ids=doc_ids)

    async def search_async(
        self, text: str, *, k: int, doc_ids: Sequence[str] | None = None
    ) -> tuple[Query, list[Hit]]:
        """``search`` for an event loop: with a batching encoder the query waits for its batch
        without holding a worker thread, and the ranking after it (well under a millisecond)
        runs on the loop; otherwise the whole search runs in a worker thread."""
        r = self._retriever
        if not isinstance(r.embedder, BatchingEmbedder) or not r.needs_vector():
            return await anyio.to_thread.run_sync(partial(self.search, text, k=k, doc_ids=doc_ids))
        query = r.condense(text)
        query = replace(query, vector=await r.embedder.embed_query_async(query.text))
        return query, r.rank(query, k=k, doc_ids=doc_ids)
