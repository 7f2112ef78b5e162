"""Catalog: what the API reads of the corpus (on the fixture corpus and the fake embedder)."""

from __future__ import annotations

import anyio
import pytest

from advisor.errors import NotFoundError
from advisor.retrieval.catalog import Catalog
from advisor.retrieval.retriever import Retriever


@pytest.fixture
def catalog(words_retriever: Retriever) -> Catalog:
    return Catalog(words_retriever)


def test_documents_careers_and_sections(catalog: Catalog) -> None:
    ids = [d.doc_id for d in catalog.documents()]
    assert "2-Beekeeper" in ids and catalog.size > len(ids)
    assert catalog.name("2-Beekeeper") == "Beekeeper"
    # Named like a software role or not: none of the fixture's trades is.
    assert not any(catalog.is_career(i) for i in ids)
    with pytest.raises(NotFoundError, match="unknown career 'nope'"):
        catalog.document("nope")
    doc = catalog.document("1-Lighthouse_Keeper")
    parts = catalog.sections(doc)
    assert parts and all(not p.text.startswith("#") for p in parts)
    assert any("28,500 crowns" in p.text for p in parts)
    assert all(p.url and p.url.startswith(doc.url or "") for p in parts)
    assert catalog.career_of("is a beekeeper's life hard?") == "2-Beekeeper"
    assert catalog.career_of("what about the weather") is None
    assert catalog.build_id.startswith("default-")


def test_search_and_citations(catalog: Catalog) -> None:
    query, hits = catalog.search("varroa mites", k=3)
    assert hits[0].chunk.doc_id == "2-Beekeeper" and query.text == "varroa mites"
    only = catalog.search("salary", k=5, doc_ids=["4-Cartographer"])[1]
    assert only and {h.chunk.doc_id for h in only} == {"4-Cartographer"}
    cited = catalog.citation(1, hits[0])
    assert cited.number == 1 and cited.text == hits[0].chunk.text
    assert cited.url and "#" in cited.url
    found = anyio.run(lambda: catalog.search_async("varroa mites", k=3))
    assert [h.chunk.chunk_id for h in found[1]] == [h.chunk.chunk_id for h in hits]
