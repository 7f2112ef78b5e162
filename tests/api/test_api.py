"""The JSON API on a real uvicorn server (127.0.0.1) over the fixture corpus: the contract on
the fakes (``fake_server``), and the whole real stack, MiniLM and SmolLM2, once (``model``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from processes import HTTP

from advisor.api.app import create_app
from advisor.config import Settings


def test_health_and_readiness(fake_server: str) -> None:
    assert HTTP.get(fake_server + "/healthz").json() == {"status": "ok"}
    ready = HTTP.get(fake_server + "/readyz").json()
    assert ready["ready"] is True and ready["chunks"] > 0
    assert ready["index"].startswith("default-")  # the build id of the index served


def test_chat_answers_with_citations_and_logs_the_query(fake_server: str) -> None:
    body = {"question": "How much does an assistant lighthouse keeper earn at the start?"}
    reply = HTTP.post(fake_server + "/api/chat", json=body, timeout=120)
    assert reply.status_code == 200, reply.text
    data = reply.json()
    assert "28,500 crowns" in data["answer"]
    assert data["citations"][0]["doc_id"] == "1-Lighthouse_Keeper"
    assert data["citations"][0]["url"].startswith("https://")
    assert set(data["timings"]) >= {"retrieval_ms", "first_token_ms", "total_ms"}
    assert data["query_id"] >= 1 and len(data["feedback_token"]) >= 32
    feedback = HTTP.post(fake_server + "/api/feedback",
                         json={"feedback_token": data["feedback_token"], "rating": "up"})
    assert feedback.json() == {"ok": True}
    # Votes need the token: a query id, or a token that came with no answer, gets nowhere.
    assert HTTP.post(fake_server + "/api/feedback",
                     json={"query_id": data["query_id"], "rating": "up"}).status_code == 422
    assert HTTP.post(fake_server + "/api/feedback",
                     json={"feedback_token": "Z" * 32, "rating": "up"}).status_code == 404


def test_chat_streams_sources_tokens_and_done(fake_server: str, read_sse: Any) -> None:
    body = {"question": "Why does a glassblower cool finished pieces slowly?", "stream": True}
    with HTTP.stream("POST", fake_server + "/api/chat", json=body, timeout=120) as reply:
        assert reply.headers["content-type"].startswith("text/event-stream")
        reply.read()
    events = read_sse(reply)
    kinds = [name for name, _ in events]
    assert kinds[0] == "sources" and kinds[-1] == "done"
    assert kinds.count("token") >= 1  # the lead at once; a model sentence only if it passes
    done = events[-1][1]
    assert "".join(d["text"] for name, d in events if name == "token") == done["answer"]
    assert "annealing" in done["answer"] and done["citations"]


def test_follow_up_uses_the_history(fake_server: str) -> None:
    body = {"question": "and what would I be paid in my first year?",
            "history": [{"role": "user", "content": "I'd like to work as a glassblower."},
                        {"role": "assistant", "content": "Glassblowers shape glass [1]."}]}
    data = HTTP.post(fake_server + "/api/chat", json=body, timeout=120).json()
    assert data["citations"][0]["doc_id"] == "3-Glassblower"
    assert "1,650 florins" in data["answer"]


def test_off_topic_is_refused(fake_server: str) -> None:
    data = HTTP.post(fake_server + "/api/chat",
                     json={"question": "Who won the 2022 FIFA World Cup?"}, timeout=60).json()
    assert data["refused"] is True and data["citations"] == []


def test_search_careers_sections_and_compare(fake_server: str) -> None:
    found = HTTP.post(fake_server + "/api/search",
                      json={"query": "varroa mites", "k": 3}).json()
    assert found["results"][0]["doc_id"] == "2-Beekeeper"
    only = HTTP.post(fake_server + "/api/search",
                     json={"query": "salary", "career": "4-Cartographer", "k": 5}).json()
    assert {r["doc_id"] for r in only["results"]} == {"4-Cartographer"}
    careers = HTTP.get(fake_server + "/api/careers").json()
    assert {c["id"] for c in careers} >= {"1-Lighthouse_Keeper", "3-Glassblower"}
    career = HTTP.get(fake_server + "/api/careers/3-Glassblower").json()
    assert any("florins" in s["text"] for s in career["sections"])
    assert all(s["url"] is None or s["url"].startswith("https://") for s in career["sections"])
    compared = HTTP.get(fake_server + "/api/compare",
                        params={"a": "2-Beekeeper", "b": "3-Glassblower"}).json()
    aspects = {a["aspect"]: a["sections"] for a in compared["aspects"]}
    assert set(aspects) == {"responsibilities", "key_skills", "entry_level", "progression"}
    assert "silver marks" in aspects["entry_level"][0]["text"]
    assert "florins" in aspects["entry_level"][1]["text"]


def test_metrics_export_requests_latency_and_answers(fake_server: str) -> None:
    HTTP.get(fake_server + "/healthz")
    text = HTTP.get(fake_server + "/metrics").text
    for name in ("advisor_requests_total", "advisor_request_duration_seconds_bucket",
                 "advisor_retrieval_seconds_bucket", "advisor_first_token_seconds_bucket",
                 "advisor_answer_seconds_bucket", "advisor_queue_depth", "advisor_refusals_total"):
        assert name in text
    assert 'route="/healthz"' in text


class HeldModel:
    """A model that holds its thread, as llama.cpp does, until the test releases it."""

    name = "held"
    context_size = 2048

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def stream(self, messages: Any, *, max_tokens: int, stop: Sequence[str] = (),
               timeout: float | None = None) -> Any:
        self.started.set()
        self.release.wait(30)  # blocking, not awaiting: the event loop must not be in here
        yield "Glass cools slowly."


def test_health_answers_fast_while_the_model_is_busy(make_service: Any, serve_app: Any,
                                                     tmp_path: Path) -> None:
    model = HeldModel()
    app = create_app(make_service(model), Settings(reload_s=0, max_wait_s=60),
                     query_log=tmp_path / "q.sqlite")
    with serve_app(app) as url:
        body = {"question": "Why does a glassblower cool finished pieces slowly?",
                "mode": "generative"}
        worker = threading.Thread(target=lambda: HTTP.post(url + "/api/chat", json=body,
                                                           timeout=60))
        worker.start()
        try:
            assert model.started.wait(30)
            started = time.perf_counter()
            assert HTTP.get(url + "/healthz", timeout=5).status_code == 200
            search = HTTP.post(url + "/api/search", json={"query": "lighthouse"}, timeout=5)
            elapsed = time.perf_counter() - started
        finally:
            model.release.set()
            worker.join()
    assert search.status_code == 200
    assert elapsed < 5


@pytest.mark.parametrize("path", ["/", "/reference", "/docs", "/openapi.json"])
def test_pages_render(fake_server: str, path: str) -> None:
    assert HTTP.get(fake_server + path).status_code == 200


# ---------------------------------------------------------------- the real stack


def test_the_real_stack_answers_streams_and_searches(live_server: str, read_sse: Any) -> None:
    """MiniLM, FAISS and SmolLM2 behind uvicorn: an answer with its citation, the same
    answer streamed, and a search."""
    body = {"question": "How much does an assistant lighthouse keeper earn at the start?"}
    data = HTTP.post(live_server + "/api/chat", json=body, timeout=120).json()
    assert "28,500 crowns" in data["answer"] and data["mode"] == "generative"
    assert data["citations"][0]["doc_id"] == "1-Lighthouse_Keeper"
    with HTTP.stream("POST", live_server + "/api/chat", json={**body, "stream": True},
                     timeout=120) as reply:
        reply.read()
    events = read_sse(reply)
    done = events[-1][1]
    assert "".join(d["text"] for name, d in events if name == "token") == done["answer"]
    found = HTTP.post(live_server + "/api/search", json={"query": "varroa mites", "k": 3}).json()
    assert found["results"][0]["doc_id"] == "2-Beekeeper"
