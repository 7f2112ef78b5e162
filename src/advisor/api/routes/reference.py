"""Reference API for counselors: passage search, careers, sections, comparisons."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from advisor.api.deps import CatalogDep, StateDep
from advisor.api.limits import check
from advisor.api.schemas import ID_PATTERN, SearchRequest
from advisor.retrieval import Catalog, SectionText
from advisor.types import Document

router = APIRouter(tags=["reference"])

CareerId = Annotated[str, Path(pattern=ID_PATTERN, description="A career id from /api/careers")]
#: What /api/compare puts side by side, and the words that find it among a career's headings.
ASPECTS = {
    "responsibilities": ("responsibilities", "role definition"),
    "key_skills": ("key skills",),
    "entry_level": ("entry-level positions", "entry level"),
    "progression": ("progression paths", "career ladder"),
}


def section_json(part: SectionText) -> dict[str, Any]:
    s = part.section
    return {"heading": s.heading, "path": list(s.path), "level": s.level, "anchor": s.anchor,
            "url": part.url, "text": part.text}


@router.post("/api/search", summary="Passages for a query, without the language model")
async def search(body: SearchRequest, catalog: CatalogDep, state: StateDep) -> dict[str, Any]:
    check(body, state.settings)
    if body.career is not None:
        catalog.document(body.career)
    doc_ids = [body.career] if body.career else None
    query, hits = await catalog.search_async(body.query, k=body.k, doc_ids=doc_ids)
    results = []
    for hit in hits:
        c = catalog.citation(hit.rank, hit)
        results.append({
            "rank": hit.rank, "score": hit.score, "chunk_id": c.chunk_id, "doc_id": c.doc_id,
            "title": c.title, "heading_path": list(c.heading_path), "url": c.url, "text": c.text,
            "start": c.start, "end": c.end,
        })
    return {"query": query.text, "careers": [c.doc_id for c in query.careers], "results": results}


@router.get("/api/careers", summary="Every career (and chapter) of the corpus")
def careers(catalog: CatalogDep) -> list[dict[str, Any]]:
    return [
        {"id": d.doc_id, "title": d.title, "name": catalog.name(d.doc_id),
         "description": d.description, "url": d.url, "is_career": catalog.is_career(d.doc_id)}
        for d in catalog.documents()
    ]


@router.get("/api/careers/{career_id}", summary="A career's sections with text and links")
def career(career_id: CareerId, catalog: CatalogDep) -> dict[str, Any]:
    doc = catalog.document(career_id)
    return {
        "id": doc.doc_id,
        "title": doc.title,
        "description": doc.description,
        "url": doc.url,
        "sections": [section_json(part) for part in catalog.sections(doc)],
    }


def aspect(catalog: Catalog, doc: Document, words: tuple[str, ...]) -> dict[str, Any] | None:
    for part in catalog.sections(doc):
        heading = part.section.heading.lower()
        if any(w in heading for w in words):
            return section_json(part)
    return None


@router.get("/api/compare", summary="Two careers side by side, section by section")
def compare(
    a: Annotated[str, Query(pattern=ID_PATTERN)],
    b: Annotated[str, Query(pattern=ID_PATTERN)],
    catalog: CatalogDep,
) -> dict[str, Any]:
    docs = [catalog.document(a), catalog.document(b)]
    return {
        "careers": [{"id": d.doc_id, "title": d.title, "url": d.url} for d in docs],
        "aspects": [
            {"aspect": name, "sections": [aspect(catalog, d, words) for d in docs]}
            for name, words in ASPECTS.items()
        ],
    }
