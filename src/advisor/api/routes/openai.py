"""OpenAI-compatible chat completions, so existing chat clients can use the advisor."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from advisor.api.admission import choose_mode
from advisor.api.deps import ServiceDep, StateDep
from advisor.api.limits import check_lengths, recent_history
from advisor.api.routes.chat import Events, _finish, citation_json, open_events, record
from advisor.api.schemas import OpenAIChatRequest
from advisor.api.state import AppState
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
    check_lengths([_text(m.content) for m in body.messages], max_chars=settings.max_question_chars)
    messages = [
        (m.role, _text(m.content)) for m in body.messages if m.role in ("user", "assistant")
    ]
    if not messages or messages[-1][0] != "user":
        raise InputError("the last message must come from the user")
    question = messages[-1][1]
    history = [Turn(role, text) for role, text in messages[:-1]]
    return question, recent_history(
        history, max_turns=settings.max_history_turns, max_chars=settings.max_history_chars
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
    if not body.stream:
        answer = await run_in_threadpool(_finish, events, first)
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
    return StreamingResponse(
        _chunks(events, first, state, ident, created), media_type="text/event-stream"
    )


async def _chunks(
    events: Events, first: ChatEvent, state: AppState, ident: str, created: int
) -> AsyncIterator[str]:
    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        body = {
            "id": ident,
            "object": "chat.completion.chunk",
            "created": created,
            "model": MODEL_ID,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **extra,
        }
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    async def all_events() -> AsyncIterator[ChatEvent]:
        yield first
        async for event in iterate_in_threadpool(events):
            yield event

    try:
        yield chunk({"role": "assistant", "content": ""})
        async for event in all_events():
            if event.kind == "token":
                yield chunk({"content": event.text})
            elif event.kind == "done" and event.answer is not None:
                await record(state, event.answer)
                yield chunk({}, "stop", sources=[citation_json(c) for c in event.answer.citations])
        yield "data: [DONE]\n\n"
    finally:
        await run_in_threadpool(events.close)
