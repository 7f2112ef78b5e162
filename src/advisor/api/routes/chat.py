"""POST /api/chat: an answer with citations, whole or streamed as server-sent events."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from sse_starlette import ServerSentEvent
from starlette.concurrency import run_in_threadpool

from advisor.answer import ChatService
from advisor.api.admission import choose_mode
from advisor.api.answers import answer_json, citation_json, record
from advisor.api.deps import ServiceDep, StateDep
from advisor.api.limits import check, recent_history
from advisor.api.schemas import ChatRequest, ChatResponse, FeedbackRequest
from advisor.api.state import AppState
from advisor.api.streaming import Events, event, finish, open_events, reading, sse_response
from advisor.errors import AdvisorError, NotFoundError, QueryLogError
from advisor.types import Answer, ChatEvent, Turn

router = APIRouter(tags=["chat"])
log = logging.getLogger(__name__)
#: What a student sees when an answer breaks off; the details go to the log only.
STREAM_FAILED = "Sorry, something went wrong while answering. Please ask again."


def turns(body: ChatRequest, state: AppState) -> list[Turn]:
    """The conversation before the question: its latest turns within the budgets."""
    s = state.settings.api
    history = [Turn(t.role, t.content) for t in body.history]
    return recent_history(history, max_turns=s.max_history_turns, max_chars=s.max_history_chars)


@router.post(
    "/api/chat",
    summary='Answer a question (add "stream": true for SSE)',
    response_model=ChatResponse,
)
async def chat(body: ChatRequest, request: Request, service: ServiceDep, state: StateDep) -> Any:
    check(body, state.settings)
    decision = choose_mode(state.gate, service, body.mode)
    events, first = await run_in_threadpool(
        open_events, service, body.question, turns(body, state), decision
    )
    wants_stream = body.stream or "text/event-stream" in request.headers.get("accept", "")
    if not wants_stream:
        answer = await run_in_threadpool(finish, events, first)
        state.metrics.tokens_generated.inc(_tokens(service, answer))
        return answer_json(answer, *await record(state, answer))
    return sse_response(_stream(events, first, state))


def _tokens(service: ChatService, answer: Answer) -> int:
    if answer.mode != "generative" or service.generator is None:
        return 0
    return service.generator.count_tokens(answer.text)


async def _stream(
    events: Events, first: ChatEvent, state: AppState
) -> AsyncIterator[ServerSentEvent]:
    """sources, then tokens that join to the answer's text, then done (or error)."""
    try:
        async with reading(events, first) as stream:
            async for e in stream:
                if e.kind == "sources":
                    yield event({"citations": [citation_json(c) for c in e.citations]}, "sources")
                elif e.kind == "token":
                    state.metrics.tokens_generated.inc(1)
                    yield event({"text": e.text}, "token")
                elif e.kind == "error":
                    yield event({"message": e.text}, "error")
                elif e.kind == "done" and e.answer is not None:
                    yield event(answer_json(e.answer, *await record(state, e.answer)), "done")
    except AdvisorError as exc:
        log.warning("answer stream failed: %s", exc)
        yield event({"message": STREAM_FAILED}, "error")


@router.post("/api/feedback", tags=["chat"], summary="Thumbs up or down on an answer")
async def feedback(body: FeedbackRequest, state: StateDep) -> dict[str, bool]:
    """A vote needs the answer's feedback token; a second vote replaces the first."""
    check(body, state.settings)
    if state.querylog is None or not state.querylog.enabled:
        raise NotFoundError("feedback is not kept: the query log is off")
    stored = await state.querylog.feedback(body.feedback_token, body.rating, body.comment)
    if stored is None:
        raise QueryLogError("the feedback could not be saved; please try again later")
    if not stored:
        raise NotFoundError("no answer has this feedback token")
    state.metrics.feedback.labels(body.rating).inc()
    return {"ok": True}
