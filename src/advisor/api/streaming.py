"""Answers as server-sent events, on ``sse-starlette``: the one place that starts a chat
stream, reads it off the event loop, closes it when a client goes away and frames it.

The routes map chat events to (event name, JSON) pairs; ``sse_response`` frames them with
"\\n" line ends (what the web chat's reader splits on) and keep-alive comments, and adds no
markup, so the pages' ``default-src 'self'`` policy holds.
"""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import anyio
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from advisor.answer import ChatService
from advisor.api.admission import Decision
from advisor.types import Answer, ChatEvent, Turn

#: Seconds between keep-alive comments, so proxies keep a slow answer's connection open.
PING_S = 15


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
    service: ChatService, question: str, history: Sequence[Turn], decision: Decision
) -> tuple[Events, ChatEvent]:
    """Start answering in the decided mode and take the first event; raises InputError /
    BusyError before anything is sent (the decision's place at the gate is freed when the
    events end). Blocking: call it in a worker thread."""
    events = Events(decision.wrap(service.stream(question, history, mode=decision.mode)))
    return events, next(events)


def finish(events: Events, first: ChatEvent) -> Answer:
    """Read the events to the end; the whole answer. Blocking: call it in a worker thread."""
    answer = first.answer
    for event in events:
        if event.kind == "done":
            answer = event.answer
    assert answer is not None  # a stream always ends with done
    return answer


@asynccontextmanager
async def reading(events: Events, first: ChatEvent) -> AsyncIterator[AsyncIterator[ChatEvent]]:
    """The events one by one, read in worker threads; however the block ends (the last
    event, an error, a client that went away) the answer is stopped and the model freed."""

    async def read() -> AsyncIterator[ChatEvent]:
        yield first
        async for event in iterate_in_threadpool(events):
            yield event

    try:
        yield read()
    finally:
        with anyio.CancelScope(shield=True):  # a cancelled request still frees the model
            await run_in_threadpool(events.close)


def event(data: Any, name: str | None = None) -> ServerSentEvent:
    """One event: ``data`` as JSON (or as is, for a string), under ``name`` if given."""
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return ServerSentEvent(text, event=name, sep="\n")


def sse_response(source: AsyncIterator[ServerSentEvent]) -> EventSourceResponse:
    """The events as a ``text/event-stream`` response."""
    return EventSourceResponse(source, sep="\n", ping=PING_S, headers={"Cache-Control": "no-cache"})
