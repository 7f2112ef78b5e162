"""``advisor serve``: uvicorn on ``create_app()``."""

from __future__ import annotations

import uvicorn

from advisor.api.app import create_app
from advisor.config import Settings


def serve(settings: Settings, *, host: str, port: int) -> int:
    """Run the server until interrupted; the index and model load in the background."""
    app = create_app(settings=settings)
    print(
        f"advisor: serving the web chat on http://{host}:{port}/ "
        f"(reference: /reference, API docs: /docs)",
        flush=True,
    )
    uvicorn.run(app, host=host, port=port, log_level="warning")
    return 0
