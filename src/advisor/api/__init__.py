"""The HTTP edge of the advisor: the FastAPI application over ChatService and Catalog, and the
server that runs it.

Modules: guard (body limit, headers), limits (every request limit from Settings), metrics,
admission (busy -> extractive), recorder (query log off the event loop), reload (hot index
swap), answers (answer JSON), streaming (SSE on sse-starlette), openapi, schemas, state, deps,
routes/ (chat, openai, reference, pages, docs, ops), app (``create_app``), server (uvicorn).

Exports ``create_app`` (a built service may be passed in) and ``serve`` (``advisor serve``).
"""

from advisor.api.app import create_app
from advisor.api.server import serve

__all__ = ["create_app", "serve"]
