"""The API documentation: Swagger UI from the installed ``swagger-ui-bundle-v2`` package.

FastAPI's own /docs page pulls Swagger UI from a CDN and starts it with an inline script;
served from the package with its start-up in a file, /docs works offline and under the same
``default-src 'self'`` policy as the other pages (plus ``data:`` images for Swagger's icons),
"Try it out" included.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).resolve().parents[1] / "templates"))
#: The files the page loads, with their media types; nothing else of the package is served.
ASSETS = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
}


def swagger_ui_folder() -> Path:
    """Where the installed package keeps Swagger UI's files."""
    from swagger_ui_bundle import swagger_ui_path

    return Path(str(swagger_ui_path))


@router.get("/docs", response_class=HTMLResponse)
def docs_page(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(
        request, "docs.html", {"openapi_url": request.app.openapi_url or "/openapi.json"}
    )


@router.get("/docs/assets/{name}")
def docs_asset(name: str) -> FileResponse:
    if name not in ASSETS:
        raise HTTPException(status_code=404, detail=f"no documentation asset {name!r}")
    return FileResponse(
        swagger_ui_folder() / name,
        media_type=ASSETS[name],
        headers={"Cache-Control": "public, max-age=86400"},
    )
