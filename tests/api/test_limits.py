"""The request budgets of the API: message length and history size (unit level; the live
60 KB request is in test_api_bad_input.py)."""

from __future__ import annotations

import pytest

from advisor.api.limits import check_lengths, recent_history
from advisor.api.routes.openai import conversation
from advisor.api.schemas import OpenAIChatRequest
from advisor.config import Settings
from advisor.errors import InputError
from advisor.types import Turn


def test_a_message_over_the_question_limit_is_refused() -> None:
    check_lengths(["short", "x" * 2000], max_chars=2000)
    with pytest.raises(InputError, match="message 2 has 2001 characters; .* at most 2000"):
        check_lengths(["short", "x" * 2001], max_chars=2000)


def test_the_history_keeps_the_latest_turns_within_both_budgets() -> None:
    turns = [Turn("user" if i % 2 == 0 else "assistant", f"{i}" * 10) for i in range(10)]
    assert recent_history(turns, max_turns=20, max_chars=1000) == turns
    assert recent_history(turns, max_turns=3, max_chars=1000) == turns[-3:]
    assert recent_history(turns, max_turns=20, max_chars=35) == turns[-3:]
    assert recent_history(turns, max_turns=20, max_chars=5) == []


def _request(*contents: str, roles: tuple[str, ...] = ()) -> OpenAIChatRequest:
    roles = roles or tuple("user" if i % 2 == 0 else "assistant" for i in range(len(contents)))
    return OpenAIChatRequest.model_validate(
        {"messages": [{"role": r, "content": c} for r, c in zip(roles, contents, strict=True)]})


def test_v1_holds_every_message_to_the_question_limit() -> None:
    settings = Settings(max_question_chars=100)
    with pytest.raises(InputError, match="message 1 has 60000 characters"):
        conversation(_request("PM " * 20000, "ok", "what do they earn?"), settings)
    with pytest.raises(InputError, match="message 1"):  # the system message too
        conversation(_request("x" * 101, "hi", roles=("system", "user")), settings)


def test_v1_keeps_the_latest_history_within_the_budget() -> None:
    settings = Settings(max_history_chars=25, max_history_turns=20)
    question, history = conversation(
        _request("a" * 10, "b" * 10, "c" * 10, "d" * 10, "and the pay?"), settings)
    assert question == "and the pay?"
    assert [t.content for t in history] == ["c" * 10, "d" * 10]
