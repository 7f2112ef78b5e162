"""Busy fallback: answers never queue behind the model unless generative was asked for."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from advisor.api.admission import BUSY_MODE, BUSY_NOTICE, ModelGate
from advisor.api.app import create_app
from advisor.config import ChatSettings, Settings
from advisor.errors import BusyError
from advisor.llm.request_queue import Pieces, Queued, RequestQueue

QUESTION = "What does an assistant lighthouse keeper earn at the start?"


@dataclass
class Model:
    """What the gate reads of a generator."""

    queue_depth: int = 0
    concurrency: int = 1
    mean_seconds: float | None = None
    running_seconds: float = 0.0


def service(mode: str = "generative", generator: Any = None) -> Any:
    @dataclass
    class Service:
        settings: ChatSettings
        generator: Any

    return Service(ChatSettings(mode=mode), generator)  # type: ignore[arg-type]


def gate(max_wait: float = 2.0, limit: int = 4) -> ModelGate:
    return ModelGate(max_wait_s=max_wait, prior_s=30.0, extractive_limit=limit)


@pytest.mark.parametrize(("depth", "slots", "mean", "running", "wait"), [
    (0, 1, 3.0, 0.0, 0.0),       # the model is free
    (1, 1, 3.0, 1.0, 3.0),       # one ahead, one slot
    (3, 1, 1.5, 0.5, 4.5),
    (3, 4, 2.0, 1.0, 0.0),       # a remote server with four slots has one free
    (6, 4, 2.0, 1.0, 1.5),       # three ahead, served four at a time
    (1, 1, None, 0.0, 30.0),     # nothing measured yet: assume the worst
    (1, 1, 1.5, 12.0, 12.0),     # the running one already took 12 s: the average is stale
])
def test_expected_wait(depth: int, slots: int, mean: float | None, running: float,
                       wait: float) -> None:
    assert gate().expected_wait(Model(depth, slots, mean, running)) == pytest.approx(wait)


def test_a_full_queue_means_no_wait_is_short_enough() -> None:
    model = Model(queue_depth=8, mean_seconds=0.1)
    model.queue = RequestQueue(size=8)  # type: ignore[attr-defined]
    assert gate().expected_wait(model) == float("inf")
    assert gate().decide(service(generator=model), None).busy  # not a 503


def test_decisions() -> None:
    g, model = gate(), Model(queue_depth=1, mean_seconds=3.0)
    busy = g.decide(service(generator=model), None)
    assert (busy.mode, busy.busy) == ("extractive", True)
    asked = g.decide(service(generator=model), "generative")
    assert (asked.mode, asked.busy) == ("generative", False)  # waits in line, as asked
    plain = g.decide(service(generator=model), "extractive")
    assert (plain.mode, plain.busy) == ("extractive", False)
    model.mean_seconds = 1.5  # one ahead at 1.5 s: worth the wait
    assert g.decide(service(generator=model), None).busy is False
    assert g.decide(service(mode="extractive", generator=model), None).busy is False
    assert g.decide(service(generator=None), None).busy is False  # no model at all
    assert (g.generative, g.extractive) == (2, 4)
    for decision in (busy, asked, plain):
        decision.release()
        decision.release()  # idempotent
    assert (g.generative, g.extractive) == (1, 2)


def test_requests_decided_together_count_before_the_model_sees_them() -> None:
    g, model = gate(max_wait=2.0), Model(queue_depth=0, mean_seconds=3.0)
    first = g.decide(service(generator=model), None)
    second = g.decide(service(generator=model), None)  # the queue has not admitted `first` yet
    assert (first.busy, second.busy) == (False, True)


def test_true_overload_is_a_503() -> None:
    g, model = gate(limit=2), Model(queue_depth=5, mean_seconds=3.0)
    held = [g.decide(service(generator=model), None) for _ in range(2)]
    with pytest.raises(BusyError, match="overloaded"):
        g.decide(service(generator=model), None)
    held[0].release()
    assert g.decide(service(generator=model), None).busy


class HeldModel(Queued):
    """A one-slot model whose generation waits for ``release``: the queue behind it (and what
    the gate reads of it, through ``Queued``) is real."""

    name = "held"
    context_size = 2048

    def __init__(self) -> None:
        self.queue = RequestQueue(size=4)
        self.release = threading.Event()
        self.started = threading.Event()

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def stream(self, messages: Any, *, max_tokens: int, stop: Sequence[str] = (),
               timeout: float | None = None) -> Pieces:
        def produce() -> Pieces:
            self.started.set()
            self.release.wait(30)
            yield "An assistant keeper earns 28,500 crowns a year [1]."

        return self.queue.run(produce, timeout=timeout)


def test_a_busy_model_gets_an_extractive_answer_with_a_notice(
    make_service: Any, tmp_path: Any
) -> None:
    model = HeldModel()
    held = make_service(model)
    app = create_app(held, Settings(reload_s=0, max_wait_s=2.0), query_log=tmp_path / "q.sqlite")
    with TestClient(app) as client:
        first: list[httpx.Response] = []
        waiting = threading.Thread(target=lambda: first.append(
            client.post("/api/chat", json={"question": QUESTION})))
        waiting.start()
        assert model.started.wait(30)
        started = time.perf_counter()
        busy = client.post("/api/chat", json={"question": QUESTION}).json()
        assert time.perf_counter() - started < 5
        assert busy["mode"] == BUSY_MODE and BUSY_NOTICE in busy["notices"]
        assert "28,500 crowns" in busy["answer"] and busy["feedback_token"]
        streamed = client.post("/api/chat", json={"question": QUESTION, "stream": True}).text
        assert f'"mode": "{BUSY_MODE}"' in streamed
        # Asked for generative explicitly: it waits in line for the model.
        asked: list[httpx.Response] = []
        patient = threading.Thread(target=lambda: asked.append(client.post(
            "/api/chat", json={"question": QUESTION, "mode": "generative"})))
        patient.start()
        time.sleep(0.5)
        assert not asked
        model.release.set()
        waiting.join(30)
        patient.join(30)
        assert first[0].json()["mode"] == asked[0].json()["mode"] == "generative"
        # The queue drained and one generation is measured (well under 2 s): generative again.
        again = client.post("/api/chat", json={"question": QUESTION}).json()
        assert again["mode"] == "generative" and BUSY_NOTICE not in again["notices"]
        metrics = client.get("/metrics").text
        assert 'advisor_answers_total{mode="extractive_busy",outcome="answered"} 2.0' in metrics
        assert 'advisor_answers_total{mode="generative",outcome="answered"} 3.0' in metrics


def test_closing_an_answer_early_frees_its_place_and_stops_the_answer() -> None:
    from advisor.answer.chat import ChatEvent

    g, model = gate(), Model(queue_depth=0, mean_seconds=1.0)
    stopped: list[bool] = []

    def answer() -> Any:
        try:
            yield ChatEvent("sources")
            yield ChatEvent("token", text="never read")
        finally:
            stopped.append(True)

    decision = g.decide(service(generator=model), None)
    events = decision.wrap(answer())
    assert next(events).kind == "sources" and g.generative == 1
    events.close()  # as when the student closes the page mid-answer
    assert stopped == [True] and g.generative == 0
