"""POST /api/chat: an answer with citations, whole or streamed as server-sent events."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from advisor.api.admission import Decision, choose_mode
from advisor.api.deps import ServiceDep, StateDep
from advisor.api.limits import recent_history
from advisor.api.schemas import ChatRequest, ChatResponse, FeedbackRequest
from advisor.api.state import AppState
from advisor.chat import ChatService
from advisor.errors import AdvisorError, NotFoundError, QueryLogError
from advisor.types import Answer, ChatEvent, Citation, Turn

router = APIRouter(tags=["chat"])
log = logging.getLogger(__name__)
#: What a student sees when an answer breaks off; the details go to the log only.
STREAM_FAILED = "Sorry, something went wrong while answering. Please ask again."


class Events:
    """A chat event stream that one thread reads and another may close safely."""

    def __init__(self, events: Iterator[ChatEvent]) -> None:
        self._events = events
        self._lock = threading.Lock()
        self._closed = False

    def __iter__(self) -> Iterator[ChatEvent]:
        return self

    def __next__(self) -> ChatEvent:
        with self._lock:
            if self._closed:
                raise StopIteration
            return next(self._events)

    def close(self) -> None:
        """Stop the generation (the model is freed once the current token is out)."""
        with self._lock:
            self._closed = True
            close = getattr(self._events, "close", None)
            if close:
                close()


def open_events(
    service: ChatService, question: str, history: list[Turn], decision: Decision
) -> tuple[Events, ChatEvent]:
    """Start answering in the decided mode; raises InputError / BusyError before anything is
    sent (the decision's place at the gate is freed when the events end)."""
    events = Events(decision.wrap(service.stream(question, history, mode=decision.mode)))
    first = next(events)
    return events, first


def citation_json(c: Citation) -> dict[str, Any]:
    out = asdict(c)
    out["heading_path"] = list(c.heading_path)
    return out


def answer_json(
    answer: Answer, query_id: int | None, feedback_token: str | None = None
) -> dict[str, Any]:
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
    careers = state.service.retriever.careers.find(answer.query)
    return await state.querylog.record(answer, careers[0].doc_id if careers else None)


def turns(body: ChatRequest, state: AppState) -> list[Turn]:
    s = state.settings
    history = [Turn(t.role, t.content) for t in body.history]
    return recent_history(history, max_turns=s.max_history_turns, max_chars=s.max_history_chars)


def sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@router.post(
    "/api/chat",
    summary='Answer a question (add "stream": true for SSE)',
    response_model=ChatResponse,
)
async def chat(body: ChatRequest, request: Request, service: ServiceDep, state: StateDep) -> Any:
    decision = choose_mode(state.gate, service, body.mode)
    events, first = await run_in_threadpool(
        open_events, service, body.question, turns(body, state), decision
    )
    wants_stream = body.stream or "text/event-stream" in request.headers.get("accept", "")
    if not wants_stream:
        answer = await run_in_threadpool(_finish, events, first)
        state.metrics.tokens_generated.inc(_tokens(service, answer))
        return answer_json(answer, *await record(state, answer))
    return StreamingResponse(
        _stream(events, first, state, service),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _finish(events: Events, first: ChatEvent) -> Answer:
    answer = first.answer
    for event in events:
        if event.kind == "done":
            answer = event.answer
    assert answer is not None
    return answer


def _tokens(service: ChatService, answer: Answer) -> int:
    if answer.mode != "generative" or service.generator is None:
        return 0
    return service.generator.count_tokens(answer.text)


async def _stream(
    events: Events, first: ChatEvent, state: AppState, service: ChatService
) -> AsyncIterator[str]:
    async def all_events() -> AsyncIterator[ChatEvent]:
        yield first
        async for event in iterate_in_threadpool(events):
            yield event

    try:
        async for event in all_events():
            if event.kind == "sources":
                yield sse("sources", {"citations": [citation_json(c) for c in event.citations]})
            elif event.kind == "token":
                state.metrics.tokens_generated.inc(1)
                yield sse("token", {"text": event.text})
            elif event.kind == "error":
                yield sse("error", {"message": event.text})
            elif event.kind == "done" and event.answer is not None:
                yield sse("done", answer_json(event.answer, *await record(state, event.answer)))
    except AdvisorError as exc:
        log.warning("answer stream failed: %s", exc)
        yield sse("error", {"message": STREAM_FAILED})
    finally:
        # A client that went away cancels its generation and frees the model.
        await run_in_threadpool(events.close)


@router.post("/api/feedback", tags=["chat"], summary="Thumbs up or down on an answer")
async def feedback(body: FeedbackRequest, state: StateDep) -> dict[str, bool]:
    """A vote needs the answer's feedback token; a second vote replaces the first."""
    if state.querylog is None or not state.querylog.enabled:
        raise NotFoundError("feedback is not kept: the query log is off")
    stored = await state.querylog.feedback(body.feedback_token, body.rating, body.comment)
    if stored is None:
        raise QueryLogError("the feedback could not be saved; please try again later")
    if not stored:
        raise NotFoundError("no answer has this feedback token")
    state.metrics.feedback.labels(body.rating).inc()
    return {"ok": True}
