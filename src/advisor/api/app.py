"""``create_app``: the FastAPI application (JSON API, OpenAI-compatible API, web pages)."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from advisor import __version__
from advisor.answer import ChatService
from advisor.api import openapi
from advisor.api.admission import ModelGate
from advisor.api.guard import Guard
from advisor.api.metrics import Metrics
from advisor.api.recorder import Recorder, open_store
from advisor.api.reload import IndexWatcher
from advisor.api.state import AppState
from advisor.config import Settings, load_settings
from advisor.errors import AdvisorError, BusyError, InputError, NotFoundError, OverloadedError

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent


def create_app(
    service: ChatService | None = None,
    settings: Settings | None = None,
    *,
    query_log: Path | None = None,
) -> FastAPI:
    """The app; with ``service`` None it builds one from settings when it starts."""
    from advisor.wiring import configure_runtime

    settings = settings or load_settings()
    configure_runtime(settings)
    state = AppState(settings=settings, metrics=Metrics(), service=service)
    state.gate = ModelGate(
        max_wait_s=settings.api.max_wait_s,
        prior_s=settings.chat.writer.timeout,
        extractive_limit=settings.api.search_queue_size,
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
        # /docs is served by routes/docs.py from a local Swagger UI; ReDoc would need a CDN.
        docs_url=None,
        redoc_url=None,
        title="advisor",
        version=__version__,
        description="A local career advisor: answers from career documents, with citations. "
        "Career documents © 2025 National Digital Capacity Library, Sri Lanka, CC BY 4.0.",
        lifespan=lifespan,
    )
    app.state.advisor = state
    _add_error_handlers(app)
    openapi.install(app, settings)
    from advisor.api.routes import chat, docs, openai, ops, pages, reference

    for module in (ops, chat, reference, openai, pages, docs):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_middleware(Guard, metrics=state.metrics, max_body=settings.api.max_body_bytes)
    return app


def _background(state: AppState, service: ChatService | None) -> list[asyncio.Task[None]]:
    """Retention of the query log, and the watcher that swaps in a rebuilt index."""
    from advisor.wiring import chunker_for

    settings = state.settings
    assert state.querylog is not None
    tasks = [asyncio.create_task(state.querylog.keep_for(settings.query_log_days))]
    # A service passed in watches the link it was loaded through; a built one the settings'.
    link = service.catalog.link if service else settings.index_dir / settings.index_name
    if link.is_symlink() or service is None:
        watcher = IndexWatcher(state, link=link, chunker=chunker_for(settings))
        tasks.append(asyncio.create_task(watcher.run(settings.api.reload_s)))
    return tasks


def _load(state: AppState) -> None:
    """Build the index if missing, load it and the model (in a thread: /healthz stays up).

    Every failure ends up in ``state.error``, which /readyz shows: a thread that died
    silently would leave the server "not ready" forever with nothing to act on.
    """
    try:
        _load_service(state)
    except AdvisorError as exc:
        state.error = f"the advisor could not start: {exc}"
        log.error("%s", state.error)
    except OSError as exc:
        state.error = f"the advisor could not start: {startup_problem(exc, state.settings)}"
        log.error("%s", state.error, exc_info=exc)
    except Exception as exc:  # noqa: BLE001 - shown in /readyz, with the traceback in the log
        state.error = (
            f"the advisor could not start: unexpected {type(exc).__name__} while loading the "
            "index and the model; the server log has the traceback"
        )
        log.error("%s", state.error, exc_info=exc)


def _load_service(state: AppState) -> None:
    from advisor.wiring import chat_service_for, open_index

    started = time.perf_counter()
    index = open_index(state.settings, build_if_missing=True)
    state.service = chat_service_for(
        state.settings,
        index=index,
        with_model=state.settings.chat.mode != "extractive",
        batch_queries=True,
    )
    state.build()
    state.ready.set()
    log.warning("advisor ready in %.1f s", time.perf_counter() - started)


def startup_problem(exc: OSError, settings: Settings) -> str:
    """What went wrong with a file at start-up, named by the setting that points there."""
    reason = (exc.strerror or type(exc).__name__).lower()
    filename = Path(str(exc.filename)) if exc.filename else None
    places = [
        ("ADVISOR_INDEX_DIR", settings.index_dir),
        ("ADVISOR_MODEL_CACHE", settings.model_cache),
        ("ADVISOR_CORPUS", settings.corpus),
        ("ADVISOR_LLM_MODEL", settings.llm_model),
    ]
    for variable, folder in places:
        if folder is None or filename is None:
            continue
        try:
            inside = filename.resolve().is_relative_to(Path(folder).resolve())
        except OSError:
            inside = False
        if inside:
            return (
                f"{reason} on {filename.name} in {variable} ({folder}); check that it exists "
                "and that the server's user may read it (and write it, to build the index)"
            )
    where = f" on {filename.name}" if filename else ""
    return f"{reason}{where} while loading the index and the model; see the server log"


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AdvisorError)
    async def advisor_error(request: Request, exc: AdvisorError) -> JSONResponse:
        if isinstance(exc, NotFoundError):
            return JSONResponse({"detail": str(exc)}, status_code=404)
        if isinstance(exc, InputError):
            return JSONResponse({"detail": str(exc)}, status_code=422)
        if isinstance(exc, BusyError | OverloadedError):
            return JSONResponse(
                {"detail": str(exc)},
                status_code=503,
                headers={"Retry-After": str(int(exc.retry_after + 0.999))},
            )
        # Model server URLs, reply bodies and paths stay in the log, not in the reply.
        log.warning("%s %s failed: %s", request.method, request.url.path, exc)
        return JSONResponse(
            {"detail": "the advisor cannot answer right now; please try again in a minute"},
            status_code=503,
            headers={"Retry-After": "30"},
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            problems.append(f"{where or 'body'}: {err.get('msg', 'invalid')}")
        return JSONResponse({"detail": "; ".join(problems)[:2000]}, status_code=422)
