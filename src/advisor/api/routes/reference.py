"""Reference API for counselors: passage search, careers, sections, comparisons."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from starlette.concurrency import run_in_threadpool

from advisor.api.deps import ServiceDep
from advisor.api.schemas import ID_PATTERN, SearchRequest
from advisor.chat import ChatService
from advisor.errors import NotFoundError
from advisor.query_batcher import BatchingEmbedder
from advisor.types import Document, Section

router = APIRouter(tags=["reference"])

CareerId = Annotated[str, Path(pattern=ID_PATTERN, description="A career id from /api/careers")]
#: What /api/compare puts side by side, and the words that find it among a career's headings.
ASPECTS = {
    "responsibilities": ("responsibilities", "role definition"),
    "key_skills": ("key skills",),
    "entry_level": ("entry-level positions", "entry level"),
    "progression": ("progression paths", "career ladder"),
}


def document(service: ChatService, career_id: str) -> Document:
    doc = service.retriever.index.documents.get(career_id)
    if doc is None:
        raise NotFoundError(f"unknown career {career_id!r}: see /api/careers")
    return doc


def section_json(doc: Document, section: Section) -> dict[str, Any]:
    body_start = doc.source.find("\n", section.start) + 1
    return {
        "heading": section.heading,
        "path": list(section.path),
        "level": section.level,
        "anchor": section.anchor,
        "url": f"{doc.url}#{section.anchor}" if doc.url and section.anchor else doc.url,
        "text": doc.source[body_start : section.end].strip(),
    }


@router.post("/api/search", summary="Passages for a query, without the language model")
async def search(body: SearchRequest, service: ServiceDep) -> dict[str, Any]:
    if body.career is not None:
        document(service, body.career)
    doc_ids = [body.career] if body.career else None
    retriever = service.retriever
    if isinstance(retriever.embedder, BatchingEmbedder) and retriever.settings.mode != "bm25":
        # The query waits for its batch without a worker thread; the ranking after it takes
        # well under a millisecond, so it runs on the event loop.
        query = retriever.condense(body.query)
        vector = await retriever.embedder.embed_query_async(query.text)
        query = replace(query, vector=vector)
        hits = retriever.rank(query, k=body.k, doc_ids=doc_ids)
    else:
        query, hits = await run_in_threadpool(
            retriever.search, body.query, k=body.k, doc_ids=doc_ids
        )
    results = []
    for hit in hits:
        citation = service.citation(hit.rank, hit)
        results.append(
            {
                "rank": hit.rank,
                "score": hit.score,
                "chunk_id": citation.chunk_id,
                "doc_id": citation.doc_id,
                "title": citation.title,
                "heading_path": list(citation.heading_path),
                "url": citation.url,
                "text": citation.text,
                "start": citation.start,
                "end": citation.end,
            }
        )
    return {"query": query.text, "careers": [c.doc_id for c in query.careers], "results": results}


@router.get("/api/careers", summary="Every career (and chapter) of the corpus")
def careers(service: ServiceDep) -> list[dict[str, Any]]:
    matcher = service.retriever.careers
    return [
        {
            "id": d.doc_id,
            "title": d.title,
            "name": matcher.names.get(d.doc_id, d.title),
            "description": d.description,
            "url": d.url,
            "is_career": matcher.is_career(d.doc_id),
        }
        for d in service.retriever.index.documents.values()
    ]


@router.get("/api/careers/{career_id}", summary="A career's sections with text and links")
def career(career_id: CareerId, service: ServiceDep) -> dict[str, Any]:
    doc = document(service, career_id)
    return {
        "id": doc.doc_id,
        "title": doc.title,
        "description": doc.description,
        "url": doc.url,
        "sections": [section_json(doc, s) for s in doc.sections],
    }


def aspect(doc: Document, words: tuple[str, ...]) -> dict[str, Any] | None:
    for section in doc.sections:
        heading = section.heading.lower()
        if any(w in heading for w in words):
            return section_json(doc, section)
    return None


@router.get("/api/compare", summary="Two careers side by side, section by section")
def compare(
    a: Annotated[str, Query(pattern=ID_PATTERN)],
    b: Annotated[str, Query(pattern=ID_PATTERN)],
    service: ServiceDep,
) -> dict[str, Any]:
    docs = [document(service, a), document(service, b)]
    return {
        "careers": [{"id": d.doc_id, "title": d.title, "url": d.url} for d in docs],
        "aspects": [
            {"aspect": name, "sections": [aspect(d, words) for d in docs]}
            for name, words in ASPECTS.items()
        ],
    }
