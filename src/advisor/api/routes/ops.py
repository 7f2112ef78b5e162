"""Health, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from advisor.api.deps import StateDep

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process answers (always fast)")
async def healthz() -> dict[str, str]:
    # On the event loop itself: no thread-pool slot to wait for while the pool is busy.
    return {"status": "ok"}


@router.get("/readyz", summary="Index and model are loaded")
async def readyz(state: StateDep, response: Response) -> dict[str, object]:
    # On the event loop, like /healthz: under a flood of searches a probe must not queue
    # for a thread-pool slot.
    ready = state.ready.is_set() and state.service is not None
    if not ready:
        response.status_code = 503
    service = state.service
    return {
        "ready": ready,
        "error": state.error,
        "chunks": service.catalog.size if service else 0,
        "model": getattr(service.generator, "name", None) if service else None,
        "index": state.build(),
    }


@router.get("/metrics", summary="Prometheus metrics")
def metrics(state: StateDep) -> Response:
    generator = state.service.generator if state.service else None
    state.metrics.queue_depth.set(float(getattr(generator, "queue_depth", 0) or 0))
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
