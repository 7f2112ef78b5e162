"""``Guard``: the pure ASGI middleware around every request: a body size limit (413, for
chunked bodies too), HEAD wherever GET is served, security headers, and request metrics."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from advisor.api.metrics import Metrics

#: Every response: scripts, styles, images and requests only from this origin, nothing inline,
#: never inside another site's frame.
PAGE_POLICY = (
    "default-src 'self'; base-uri 'none'; object-src 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
#: /docs: the same, plus the data: images Swagger UI's stylesheet draws its icons with.
DOCS_POLICY = (
    "default-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; object-src 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def too_large(max_body: int) -> str:
    """What a request over the body limit is told."""
    return f"request body is larger than {max_body // 1024} KB"


class Guard:
    """Body limit, HEAD, security headers and metrics for every HTTP request."""

    def __init__(self, app: Any, metrics: Metrics, max_body: int) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body = max_body
        self.too_large = json.dumps({"detail": too_large(max_body)}).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}
        head = scope["method"] == "HEAD"
        if head:
            # HEAD is GET without the body (RFC 9110), for every route that serves GET.
            scope = {**scope, "method": "GET"}
        policy = PAGE_POLICY if scope["path"] != "/docs" else DOCS_POLICY
        extra = [(b"content-security-policy", policy.encode()), *SECURITY_HEADERS]

        async def guarded_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            elif message["type"] == "http.response.body" and head:
                message = {**message, "body": b""}
            await send(message)

        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            await _reply(guarded_send, 413, self.too_large)
            self._count(scope, 413, started)
            return
        if length is None and scope["method"] in ("POST", "PUT", "PATCH", "DELETE"):
            # A chunked body has no length to check up front: read it here, up to the limit,
            # so one over it gets 413 (inside the app it would surface as a 400 parse error).
            body = await _read_body(receive, self.max_body)
            if body is None:
                await _reply(guarded_send, 413, self.too_large)
                self._count(scope, 413, started)
                return
            receive = _replay(body, receive)
        try:
            await self.app(scope, receive, guarded_send)
        finally:
            self._count(scope, status["code"], started)

    def _count(self, scope: Scope, status: int, started: float) -> None:
        route = scope.get("route")
        path = getattr(route, "path", None) or "unmatched"
        self.metrics.requests.labels(path, scope.get("method", ""), str(status)).inc()
        self.metrics.request_seconds.labels(path).observe(time.perf_counter() - started)


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body, or None once it passes ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the app the body already read, then waits on the real one."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _reply(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
