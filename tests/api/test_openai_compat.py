"""The official ``openai`` client against the advisor's /v1 endpoint on a real uvicorn server
(on the fakes: what is checked is the wire format the client reads)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # imported by the fixture: its 0.6 s of types need not slow every collection
    import openai


@pytest.fixture
def client(fake_server: str) -> openai.OpenAI:
    import openai

    return openai.OpenAI(base_url=fake_server + "/v1", api_key="not-needed", timeout=120)


def test_models_lists_the_advisor(client: openai.OpenAI) -> None:
    assert [m.id for m in client.models.list()] == ["advisor"]


def test_completion_with_sources(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(model="advisor", messages=[
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": "How much does an assistant lighthouse keeper earn?"}])
    text = reply.choices[0].message.content or ""
    assert "28,500 crowns" in text
    sources = (reply.model_extra or {})["sources"]
    assert sources[0]["doc_id"] == "1-Lighthouse_Keeper"


def test_streaming_completion_follows_the_conversation(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(model="advisor", stream=True, messages=[
        {"role": "user", "content": "I'd like to work as a glassblower."},
        {"role": "assistant", "content": "Glassblowers shape molten glass."},
        {"role": "user", "content": "and what would I be paid in my first year?"}])
    pieces, sources = [], None
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            pieces.append(chunk.choices[0].delta.content)
        extra = chunk.model_extra or {}
        if "sources" in extra:
            sources = extra["sources"]
    assert len(pieces) >= 1  # the lead at once; a model sentence only if it passes the check
    assert "1,650 florins" in "".join(pieces)
    assert sources and sources[0]["doc_id"] == "3-Glassblower"
