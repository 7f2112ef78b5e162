"""Every API limit comes from the settings: the checks, the OpenAPI document, the pages' forms
and the body limit follow ``Settings.chat`` and ``Settings.api`` (on the fakes of conftest)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from advisor.api.app import create_app
from advisor.config import Settings

QUESTION = "What does a beekeeper do about varroa mites?"


@pytest.fixture
def client(make_service: Callable[..., Any], tmp_path: Path) -> TestClient:
    settings = Settings(
        query_log=tmp_path / "q.sqlite",
        chat={"max_question_chars": 60},
        api={"reload_s": 0, "max_history_turns": 2, "max_turn_chars": 30, "max_search_k": 3,
             "max_comment_chars": 10, "max_body_bytes": 2048},
    )
    return TestClient(create_app(make_service(), settings))


def turns(n: int, text: str = "hello") -> list[dict[str, str]]:
    return [{"role": "user" if i % 2 == 0 else "assistant", "content": text} for i in range(n)]


def test_requests_are_held_to_the_settings(client: TestClient) -> None:
    with client:
        ok = client.post("/api/chat", json={"question": QUESTION, "history": turns(2),
                                            "mode": "extractive"})
        assert ok.status_code == 200, ok.text
        refused = {
            "question": client.post("/api/chat", json={"question": "x" * 61}),
            "history": client.post("/api/chat", json={"question": QUESTION,
                                                      "history": turns(3)}),
            "history.1.content": client.post("/api/chat", json={
                "question": QUESTION, "history": turns(1) + turns(1, "y" * 31)}),
            "query": client.post("/api/search", json={"query": "x" * 61}),
            "k": client.post("/api/search", json={"query": "varroa", "k": 4}),
            "comment": client.post("/api/feedback", json={
                "feedback_token": "A" * 32, "rating": "up", "comment": "x" * 11}),
            "messages": client.post("/v1/chat/completions", json={
                "messages": turns(6) + [{"role": "user", "content": QUESTION}]}),
        }
        for field, reply in refused.items():
            assert reply.status_code == 422, (field, reply.text)
            assert reply.json()["detail"].startswith(f"{field}: should"), reply.text
        assert client.post("/api/search", json={"query": "varroa", "k": 3}).status_code == 200


def test_the_openapi_document_shows_the_limits_the_server_keeps(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert schemas["ChatRequest"]["properties"]["question"]["maxLength"] == 60
    assert schemas["ChatRequest"]["properties"]["history"]["maxItems"] == 2
    assert schemas["TurnIn"]["properties"]["content"]["maxLength"] == 30
    assert schemas["SearchRequest"]["properties"]["k"]["maximum"] == 3
    assert schemas["OpenAIChatRequest"]["properties"]["messages"]["maxItems"] == 6
    chat = client.get("/openapi.json").json()["paths"]["/api/chat"]["post"]
    assert "2 KB" in chat["responses"]["413"]["description"]


def test_the_pages_keep_the_same_limits(client: TestClient) -> None:
    with client:
        chat = client.get("/").text
        assert 'maxlength="60"' in chat and 'data-max-turns="2"' in chat
        assert 'maxlength="60"' in client.get("/reference").text


def test_the_body_limit_comes_from_the_settings(client: TestClient) -> None:
    with client:
        reply = client.post("/api/chat", content=b"x" * 3000,
                            headers={"content-type": "application/json"})
        assert reply.status_code == 413 and "2 KB" in reply.json()["detail"]
