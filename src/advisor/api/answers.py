"""What the API sends of an answer (JSON shared by /api/chat and /v1), and what it records
of one: metrics and the query log."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from advisor.api.schemas import ChatResponse
from advisor.api.state import AppState
from advisor.types import Answer, Citation


def citation_json(c: Citation) -> dict[str, Any]:
    """A citation as JSON."""
    out = asdict(c)
    out["heading_path"] = list(c.heading_path)
    return out


def answer_json(
    answer: Answer, query_id: int | None, feedback_token: str | None = None
) -> dict[str, Any]:
    """An answer as /api/chat sends it (``ChatResponse``)."""
    return ChatResponse(
        answer=answer.text,
        details=[{"text": d.text, "citation": d.citation} for d in answer.details],
        citations=[citation_json(c) for c in answer.citations],
        careers=list(answer.careers),
        suggestions=list(answer.suggestions),
        kind=answer.kind,
        refused=answer.refused,
        mode=answer.mode,
        timings=dict(answer.timings),
        notices=list(answer.notices),
        query_id=query_id,
        feedback_token=feedback_token,
    ).model_dump()


async def record(state: AppState, answer: Answer) -> tuple[int | None, str | None]:
    """Metrics and query log for one answer; its query id and feedback token (None, None
    when the log is off or failed: the answer goes out all the same)."""
    m = state.metrics
    t = answer.timings
    m.retrieval_seconds.observe(t.get("retrieval_ms", 0.0) / 1000)
    m.first_token_seconds.observe(t.get("first_token_ms", 0.0) / 1000)
    m.answer_seconds.labels(answer.mode).observe(t.get("total_ms", 0.0) / 1000)
    m.answers.labels(answer.mode, "refused" if answer.refused else "answered").inc()
    if answer.refused:
        m.refusals.inc()
    if state.querylog is None or state.service is None:
        return None, None
    return await state.querylog.record(answer, state.service.catalog.career_of(answer.query))
