"""OpenAI-compatible chat completions, so existing chat clients can use the advisor."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from sse_starlette import ServerSentEvent
from starlette.concurrency import run_in_threadpool

from advisor.api.admission import choose_mode
from advisor.api.answers import citation_json, record
from advisor.api.deps import ServiceDep, StateDep
from advisor.api.limits import check, check_lengths, recent_history
from advisor.api.schemas import OpenAIChatRequest
from advisor.api.state import AppState
from advisor.api.streaming import Events, event, finish, open_events, reading, sse_response
from advisor.config import Settings
from advisor.errors import InputError
from advisor.types import ChatEvent, Turn

router = APIRouter(tags=["openai-compatible"])
MODEL_ID = "advisor"


def _text(content: Any) -> str:
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return str(content or "")


def conversation(body: OpenAIChatRequest, settings: Settings) -> tuple[str, list[Turn]]:
    """The last user message is the question; earlier user/assistant messages the history.

    Every message is held to the question limit (422 beyond it); the history keeps the latest
    turns within ``max_history_turns`` and ``max_history_chars``.
    """
    check(body, settings)
    texts = [_text(m.content) for m in body.messages]
    check_lengths(texts, max_chars=settings.chat.max_question_chars)
    messages = [
        (m.role, _text(m.content)) for m in body.messages if m.role in ("user", "assistant")
    ]
    if not messages or messages[-1][0] != "user":
        raise InputError("the last message must come from the user")
    question = messages[-1][1]
    history = [Turn(role, text) for role, text in messages[:-1]]
    api = settings.api
    return question, recent_history(
        history, max_turns=api.max_history_turns, max_chars=api.max_history_chars
    )


@router.get("/v1/models", summary="The one model: the advisor")
def models() -> dict[str, Any]:
    return {
        "object": "list",
        "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "advisor"}],
    }


@router.post("/v1/chat/completions", summary="OpenAI-style chat completion; sources extra")
async def completions(body: OpenAIChatRequest, service: ServiceDep, state: StateDep) -> Any:
    question, history = conversation(body, state.settings)
    decision = choose_mode(state.gate, service, None)
    events, first = await run_in_threadpool(open_events, service, question, history, decision)
    ident = f"chatcmpl-{uuid.uuid4().hex[:24]}"
    created = int(time.time())
    if body.stream:
        return sse_response(_chunks(events, first, state, ident, created))
    answer = await run_in_threadpool(finish, events, first)
    await record(state, answer)
    return {
        "id": ident,
        "object": "chat.completion",
        "created": created,
        "model": MODEL_ID,
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": answer.text},
            }
        ],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        "sources": [citation_json(c) for c in answer.citations],
        "refused": answer.refused,
    }


async def _chunks(
    events: Events, first: ChatEvent, state: AppState, ident: str, created: int
) -> AsyncIterator[ServerSentEvent]:
    """Unnamed chunk events, the last with the sources, then ``[DONE]``."""

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> ServerSentEvent:
        return event({
            "id": ident,
            "object": "chat.completion.chunk",
            "created": created,
            "model": MODEL_ID,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **extra,
        })

    async with reading(events, first) as stream:
        yield chunk({"role": "assistant", "content": ""})
        async for e in stream:
            if e.kind == "token":
                yield chunk({"content": e.text})
            elif e.kind == "done" and e.answer is not None:
                await record(state, e.answer)
                yield chunk({}, "stop", sources=[citation_json(c) for c in e.answer.citations])
    yield event("[DONE]")
