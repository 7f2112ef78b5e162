"""What clients receive: streamed text equals the final answer on /api/chat (SSE) and on
/v1/chat/completions (stream or not), the answer JSON carries details, careers and
suggestions, and a failing model is told in plain words. On the fakes of conftest."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from advisor.api.app import create_app
from advisor.config import Settings

PAY = "How much does an assistant lighthouse keeper earn at the start?"
GOOD = "An assistant keeper starts at 28,500 crowns a year."
BAD = "Keepers earn 99,000 crowns at the Alexa Voice station."


@pytest.fixture
def client_for(make_service: Callable[..., Any], tmp_path: Path) -> Callable[..., TestClient]:
    def make(generator: Any) -> TestClient:
        settings = Settings(reload_s=0, max_wait_s=60.0)
        app = create_app(make_service(generator), settings, query_log=tmp_path / "q.sqlite")
        return TestClient(app)

    return make


@pytest.mark.parametrize("reply", [GOOD, BAD, f"{BAD} {GOOD}"])
def test_sse_tokens_join_to_the_final_answer(client_for, scripted, read_sse, reply):
    with client_for(scripted(reply)) as client:
        streamed = client.post("/api/chat", json={"question": PAY, "stream": True})
    text, events = streamed.text, read_sse(streamed)
    names = [name for name, _ in events]
    assert names[0] == "sources" and names[-1] == "done" and "error" not in names
    done = events[-1][1]
    assert "".join(d["text"] for n, d in events if n == "token") == done["answer"]
    assert "Alexa" not in text and "99,000" not in text  # the dropped sentence never left
    assert set(done) >= {"answer", "details", "citations", "careers", "suggestions", "kind"}
    assert done["kind"] == "pay" and done["suggestions"]
    numbers = {c["number"] for c in done["citations"]}
    assert all(d["citation"] in numbers for d in done["details"])


def test_openai_stream_and_whole_answer_are_the_same_text(client_for, scripted, read_sse):
    body = {"model": "advisor", "messages": [{"role": "user", "content": PAY}]}
    with client_for(scripted(f"{BAD} {GOOD}")) as client:
        whole = client.post("/v1/chat/completions", json=body).json()
        streamed = client.post("/v1/chat/completions", json={**body, "stream": True})
    text, events = streamed.text, read_sse(streamed)
    content = whole["choices"][0]["message"]["content"]
    assert events[-1] == ("message", "[DONE]")
    pieces = [data["choices"][0]["delta"].get("content") or "" for _, data in events[:-1]]
    assert "".join(pieces) == content
    assert content.endswith(GOOD + " [1]") and "Alexa" not in text


def test_a_failing_model_is_told_in_plain_words(client_for, scripted, read_sse):
    with client_for(scripted(GOOD, fail=True)) as client:
        events = read_sse(client.post("/api/chat", json={"question": PAY, "stream": True}))
        whole = client.post("/api/chat", json={"question": PAY}).json()
    errors = [d["message"] for n, d in events if n == "error"]
    assert errors and all("http" not in e and "10.0.0.9" not in e for e in errors)
    done = events[-1][1]
    assert "".join(d["text"] for n, d in events if n == "token") == done["answer"]
    assert not any("10.0.0.9" in n or "http" in n for n in whole["notices"])
    assert "28,500 crowns" in whole["answer"]


def test_hi_is_small_talk(client_for, scripted):
    with client_for(scripted(GOOD)) as client:
        data = client.post("/api/chat", json={"question": "hi"}).json()
    assert data["refused"] is False and data["kind"] == "smalltalk"
    assert data["citations"] == [] and data["suggestions"]
