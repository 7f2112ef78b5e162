"""The web pages: the students' chat at / and the counselors' reference at /reference."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).resolve().parents[1] / "templates"))

STARTERS = (
    "What does a data scientist do day to day?",
    "What do junior web developers earn at first?",
    "Which skills do I need to become a DevOps engineer?",
    "I'm a software tester. How can I move into QA engineering?",
)


@router.get("/", response_class=HTMLResponse)
def chat_page(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "chat.html", {"starters": STARTERS})


@router.get("/reference", response_class=HTMLResponse)
def reference_page(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "reference.html", {})
