"""Dependencies of the routes, as Annotated aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from advisor.answer import ChatService
from advisor.api.state import AppState
from advisor.retrieval import Catalog

# All are coroutines although they never await: FastAPI runs a plain function dependency in
# its thread pool, two thread hops per request for a dictionary look-up.


async def get_state(request: Request) -> AppState:
    """The app's state."""
    state: AppState = request.app.state.advisor
    return state


async def get_service(state: Annotated[AppState, Depends(get_state)]) -> ChatService:
    """The chat service, or 503 while the index and model are still loading."""
    if state.service is None or not state.ready.is_set():
        detail = state.error or "the advisor is still loading its index and model; retry shortly"
        raise HTTPException(status_code=503, detail=detail, headers={"Retry-After": "5"})
    return state.service


async def get_catalog(service: Annotated[ChatService, Depends(get_service)]) -> Catalog:
    """The catalog of the index being served (503 while loading, as the service)."""
    return service.catalog


StateDep = Annotated[AppState, Depends(get_state)]
ServiceDep = Annotated[ChatService, Depends(get_service)]
CatalogDep = Annotated[Catalog, Depends(get_catalog)]
