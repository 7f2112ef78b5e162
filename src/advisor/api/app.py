"""``create_app``: the FastAPI application (JSON API, OpenAI-compatible API, web pages)."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from advisor import __version__
from advisor.api.admission import ModelGate
from advisor.api.metrics import Metrics
from advisor.api.recorder import Recorder, open_store
from advisor.api.reload import IndexWatcher
from advisor.api.state import AppState
from advisor.chat import ChatService
from advisor.config import Settings
from advisor.errors import AdvisorError, BusyError, InputError, NotFoundError

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
HERE = Path(__file__).resolve().parent
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def create_app(
    service: ChatService | None = None,
    settings: Settings | None = None,
    *,
    query_log: Path | None = None,
) -> FastAPI:
    """The app; with ``service`` None it builds one from settings when it starts."""
    settings = settings or Settings()
    state = AppState(settings=settings, metrics=Metrics(), service=service)
    state.gate = ModelGate(
        max_wait_s=settings.max_wait_s,
        prior_s=settings.generation_timeout,
        extractive_limit=settings.search_queue_size,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = await run_in_threadpool(open_store, settings, state.metrics, path=query_log)
        state.querylog = Recorder(store, state.metrics)
        if service is not None:
            state.build()
            state.ready.set()
        else:
            threading.Thread(target=_load, args=(state,), name="advisor-load", daemon=True).start()
        tasks = _background(state, service)
        yield
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await run_in_threadpool(state.querylog.close)

    app = FastAPI(
        title="advisor",
        version=__version__,
        description="A local career advisor: answers from career documents, with citations. "
        "Career documents © 2025 National Digital Capacity Library, Sri Lanka, CC BY 4.0.",
        lifespan=lifespan,
    )
    app.state.advisor = state
    _add_error_handlers(app)
    from advisor.api.routes import chat, openai, ops, pages, reference

    for module in (ops, chat, reference, openai, pages):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_middleware(_Guard, metrics=state.metrics)
    return app


def _background(state: AppState, service: ChatService | None) -> list[asyncio.Task[None]]:
    """Retention of the query log, and the watcher that swaps in a rebuilt index."""
    from advisor.wiring import chunker_for

    settings = state.settings
    assert state.querylog is not None
    tasks = [asyncio.create_task(state.querylog.keep_for(settings.query_log_days))]
    # A service passed in watches the link it was loaded through; a built one the settings'.
    link = service.retriever.index.path if service else settings.index_dir / settings.index_name
    if link.is_symlink() or service is None:
        watcher = IndexWatcher(state, link=link, chunker=chunker_for(settings))
        tasks.append(asyncio.create_task(watcher.run(settings.reload_s)))
    return tasks


def _load(state: AppState) -> None:
    """Build the index if missing, load it and the model (in a thread: /healthz stays up)."""
    from advisor.wiring import chat_service_for, open_index

    try:
        started = time.perf_counter()
        index = open_index(state.settings, build_if_missing=True)
        import faiss

        # One FAISS thread per search: requests search side by side with the query encoder,
        # and OpenMP threads spinning for a second core only slow both (measured: 13% of a
        # loaded server's CPU in IndexFlat.search with two threads).
        faiss.omp_set_num_threads(1)
        state.service = chat_service_for(
            state.settings,
            index=index,
            with_model=state.settings.mode != "extractive",
            batch_queries=True,
        )
        state.build()
        state.ready.set()
        log.warning("advisor ready in %.1f s", time.perf_counter() - started)
    except AdvisorError as exc:
        state.error = f"the advisor could not start: {exc}"
        log.error("%s", state.error)


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AdvisorError)
    async def advisor_error(request: Request, exc: AdvisorError) -> JSONResponse:
        if isinstance(exc, NotFoundError):
            return JSONResponse({"detail": str(exc)}, status_code=404)
        if isinstance(exc, InputError):
            return JSONResponse({"detail": str(exc)}, status_code=422)
        if isinstance(exc, BusyError):
            return JSONResponse(
                {"detail": str(exc)},
                status_code=503,
                headers={"Retry-After": str(int(exc.retry_after + 0.999))},
            )
        return JSONResponse({"detail": str(exc)}, status_code=503)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            problems.append(f"{where or 'body'}: {err.get('msg', 'invalid')}")
        return JSONResponse({"detail": "; ".join(problems)[:2000]}, status_code=422)


class _Guard:
    """Pure ASGI middleware: a body size limit (413) and request metrics by route and status."""

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            await _reply(send, 413, b'{"detail":"request body is larger than 64 KB"}')
            self._count(scope, 413, started)
            return
        seen = {"bytes": 0}

        async def limited_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                seen["bytes"] += len(message.get("body", b""))
                if seen["bytes"] > MAX_BODY:
                    raise _TooLarge
            return message

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, limited_receive, send_status)
        except _TooLarge:
            status["code"] = 413
            await _reply(send, 413, b'{"detail":"request body is larger than 64 KB"}')
        finally:
            self._count(scope, status["code"], started)

    def _count(self, scope: Scope, status: int, started: float) -> None:
        route = scope.get("route")
        path = getattr(route, "path", None) or "unmatched"
        self.metrics.requests.labels(path, scope.get("method", ""), str(status)).inc()
        self.metrics.request_seconds.labels(path).observe(time.perf_counter() - started)


class _TooLarge(Exception):
    pass


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
