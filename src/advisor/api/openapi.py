"""The OpenAPI document as the server really answers: FastAPI's, plus the error replies every
operation can give and the server-sent event streams of the chat routes.

Clients, /docs and the schemathesis fuzz test (tests/api/test_fuzz.py) read this document; a
reply it does not describe is a bug in one or the other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from advisor.api import limits
from advisor.api.guard import too_large
from advisor.config import Settings

PROBLEM = {
    "title": "Problem",
    "type": "object",
    "properties": {"detail": {"type": "string", "title": "Detail"}},
    "required": ["detail"],
    "description": "What went wrong, in a sentence a person can act on.",
}
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
#: Operations whose answer needs the index (503 while it loads, or when a queue is full).
NEEDS_THE_INDEX = ("/api/chat", "/api/search", "/api/careers", "/api/compare", "/v1/chat")
#: Operations that can name something that does not exist.
CAN_BE_MISSING = ("/api/careers/{career_id}", "/api/compare", "/api/search", "/api/feedback")
#: One server-sent event as a client parses it (the JSON payload is in ``data``).
SSE_EVENT = {
    "type": "object",
    "description": "One server-sent event; /api/chat names it (sources, token, done, error), "
    "/v1/chat/completions sends chunks as unnamed events ending in data: [DONE].",
    "properties": {"event": {"type": "string"}, "data": {"type": "string"}},
    "required": ["data"],
}
#: Operations that answer with server-sent events when asked.
STREAMS = {
    "/api/chat": {"question": "What does a data engineer earn at first?", "stream": True},
    "/v1/chat/completions": {
        "model": "advisor",
        "messages": [{"role": "user", "content": "Which skills does a DevOps engineer need?"}],
        "stream": True,
    },
}


def install(app: FastAPI, settings: Settings) -> None:
    """Make ``app.openapi()`` return the completed document, with the settings' limits."""
    base: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        schema = base()  # FastAPI's, cached by it
        if "Problem" not in schema.get("components", {}).get("schemas", {}):
            complete(schema, max_body=settings.api.max_body_bytes)
            limits.document(schema, settings)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(schema: dict[str, Any], *, max_body: int) -> None:
    """Add the error replies, the event streams and their examples to FastAPI's document."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM
    # The app's validation handler answers {"detail": "field: reason; ..."}, not FastAPI's list.
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            _document_errors(path, method, operation, max_body)
            if path in STREAMS and method == "post":
                _document_stream(operation, STREAMS[path])


def _problem(description: str, *, retry: bool = False) -> dict[str, Any]:
    reply: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": PROBLEM_REF}},
    }
    if retry:
        reply["headers"] = {
            "Retry-After": {"description": "Seconds to wait", "schema": {"type": "string"}}
        }
    return reply


def _document_errors(path: str, method: str, operation: dict[str, Any], max_body: int) -> None:
    responses = operation.setdefault("responses", {})
    has_input = "422" in responses or "requestBody" in operation or operation.get("parameters")
    if has_input:
        responses["422"] = _problem("The request is invalid; the detail names the field and why.")
    if "requestBody" in operation:
        responses["400"] = _problem("The body is not JSON text (for example, not UTF-8).")
        responses["413"] = _problem(f"The {too_large(max_body)}.")
    if path.startswith(CAN_BE_MISSING):
        responses["404"] = _problem("No such career, or no such answer to vote on.")
    if path.startswith(NEEDS_THE_INDEX):
        responses["503"] = _problem(
            "The advisor is still loading, or too many requests wait; retry after Retry-After.",
            retry=True,
        )
    if path == "/readyz":
        ok = responses.get("200", {}).get("content", {})
        responses["503"] = {"description": "Not ready yet, or failed to start", "content": ok}
    if path == "/metrics":
        responses["200"] = {
            "description": "Prometheus text format",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }


def _document_stream(operation: dict[str, Any], example: dict[str, Any]) -> None:
    ok = operation.setdefault("responses", {}).setdefault("200", {"description": "OK"})
    ok.setdefault("content", {})["text/event-stream"] = {"schema": SSE_EVENT}
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body is not None:
        examples = body.setdefault("examples", {})
        examples["whole"] = {
            "summary": "The whole answer as JSON",
            "value": example | {"stream": False},
        }
        examples["stream"] = {"summary": "The answer as server-sent events", "value": example}
