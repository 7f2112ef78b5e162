"""The web pages: the students' chat at / and the counselors' reference at /reference."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from advisor.api.deps import StateDep
from advisor.api.state import AppState
from advisor.config import Settings

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).resolve().parents[1] / "templates"))

STARTERS = (
    "What does a data scientist do day to day?",
    "What do junior web developers earn at first?",
    "Which skills do I need to become a DevOps engineer?",
    "I'm a software tester. How can I move into QA engineering?",
)


def privacy(settings: Settings) -> dict[str, Any]:
    """What the privacy line under the chat says: whether questions are kept, and how long."""
    return {"kept": settings.query_log != Path("off"), "days": settings.query_log_days}


def _limits(state: AppState) -> dict[str, int]:
    """The limits a page's form keeps, so the browser stops what the API would refuse."""
    return {"max_question_chars": state.settings.chat.max_question_chars,
            "max_history_turns": state.settings.api.max_history_turns,
            "max_history_chars": state.settings.api.max_history_chars}


@router.get("/", response_class=HTMLResponse)
def chat_page(request: Request, state: StateDep) -> HTMLResponse:
    context = {"starters": STARTERS, "privacy": privacy(state.settings), **_limits(state)}
    return templates.TemplateResponse(request, "chat.html", context)


@router.get("/reference", response_class=HTMLResponse)
def reference_page(request: Request, state: StateDep) -> HTMLResponse:
    return templates.TemplateResponse(request, "reference.html", _limits(state))
