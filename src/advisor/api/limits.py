"""Budgets a request must keep before any work starts, every one from the settings.

Every text of a request is matched against the career names and may be embedded, so the
API bounds what one request can make the server read: the question (``chat``), each earlier
message, the number of turns, the passages asked for and a vote's comment (``api``). The
request models hold the shape; ``check`` holds a request to these numbers (422 beyond them)
and ``document`` writes them into the OpenAPI document, so /docs, clients and the fuzz test
see the limits the server keeps.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from advisor.config import Settings
from advisor.errors import InputError
from advisor.types import Turn

#: What a JSON-schema keyword limits, for the message of a request beyond it.
_UNITS = {"maxLength": "characters", "maxItems": "items"}


def limits(settings: Settings) -> dict[tuple[str, str], tuple[str, int]]:
    """(request model, field) -> (JSON-schema keyword, limit), for every limited field."""
    api, chat = settings.api, settings.chat
    return {
        ("ChatRequest", "question"): ("maxLength", chat.max_question_chars),
        ("ChatRequest", "history"): ("maxItems", api.max_history_turns),
        ("TurnIn", "content"): ("maxLength", api.max_turn_chars),
        ("SearchRequest", "query"): ("maxLength", chat.max_question_chars),
        ("SearchRequest", "k"): ("maximum", api.max_search_k),
        ("FeedbackRequest", "comment"): ("maxLength", api.max_comment_chars),
        # Each turn is a question and an answer, plus a system message and the question.
        ("OpenAIChatRequest", "messages"): ("maxItems", 2 * api.max_history_turns + 2),
    }


def check(body: BaseModel, settings: Settings) -> None:
    """Refuse (InputError, 422) a request with a field beyond its limit, naming the field
    as a validation error would."""
    _check(body, limits(settings), "")


def _check(model: BaseModel, rules: dict[tuple[str, str], tuple[str, int]], where: str) -> None:
    for name in type(model).model_fields:
        value: Any = getattr(model, name)
        rule = rules.get((type(model).__name__, name))
        if rule is not None:
            keyword, limit = rule
            if keyword == "maximum" and value > limit:
                raise InputError(f"{where}{name}: should be at most {limit}, not {value}")
            if keyword in _UNITS and len(value) > limit:
                raise InputError(
                    f"{where}{name}: should have at most {limit} {_UNITS[keyword]}, "
                    f"not {len(value)}"
                )
        for number, item in enumerate(value if isinstance(value, list) else ()):
            if isinstance(item, BaseModel):
                _check(item, rules, f"{where}{name}.{number}.")


def document(schema: dict[str, Any], settings: Settings) -> None:
    """Write every limit into an OpenAPI document's request schemas."""
    models = schema.get("components", {}).get("schemas", {})
    for (model, field), (keyword, limit) in limits(settings).items():
        properties = models.get(model, {}).get("properties", {})
        if field in properties:
            properties[field][keyword] = limit


def check_lengths(texts: Sequence[str], *, max_chars: int) -> None:
    """Refuse (InputError, 422) a request with any message longer than ``max_chars``."""
    for number, text in enumerate(texts, 1):
        if len(text) > max_chars:
            raise InputError(
                f"message {number} has {len(text)} characters; each message may have at "
                f"most {max_chars}"
            )


def recent_history(history: Sequence[Turn], *, max_turns: int, max_chars: int) -> list[Turn]:
    """The latest turns that fit both budgets; older turns are left out, as a chat client
    resends the whole conversation and only its recent part steers the answer."""
    kept: list[Turn] = []
    used = 0
    for turn in reversed(history):
        if len(kept) >= max_turns or used + len(turn.content) > max_chars:
            break
        kept.append(turn)
        used += len(turn.content)
    kept.reverse()
    return kept
