"""Streams on sse-starlette: events framed as the web chat reads them, and a client that goes
away mid-answer stops the model (a real uvicorn on 127.0.0.1, fakes for the model)."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from processes import HTTP

from advisor.api.app import create_app
from advisor.config import Settings

API = Path(__file__).resolve().parents[2] / "src" / "advisor" / "api"
PAY = "How much does an assistant lighthouse keeper earn at the start?"


class SlowModel:
    """A model that writes a supported sentence over and over, one word every 20 ms, for as
    long as it is read (1000 words: 20 s)."""

    words = "An assistant keeper starts at 28,500 crowns a year. ".split(" ")

    name = "slow"
    context_size = 2048

    def __init__(self) -> None:
        self.started = threading.Event()
        self.stopped = threading.Event()
        self.written = 0

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def stream(self, messages: Sequence[Mapping[str, str]], *, max_tokens: int,
               stop: Sequence[str] = (), timeout: float | None = None) -> Iterator[str]:
        def pieces() -> Iterator[str]:
            try:
                self.started.set()
                for n in range(max_tokens):
                    time.sleep(0.02)
                    self.written += 1
                    yield self.words[n % len(self.words)] + " "
            finally:
                self.stopped.set()

        return pieces()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[[Any], str]]:
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(app: Any) -> str:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                               log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        servers.append((server, thread))
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started, "the test server did not start"
        return f"http://127.0.0.1:{port}"

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=15)


def test_a_client_that_goes_away_stops_the_model(
    serve: Callable[[Any], str], make_service: Callable[..., Any], tmp_path: Path
) -> None:
    model = SlowModel()
    settings = Settings(query_log=tmp_path / "q.sqlite", reload_s=0, max_wait_s=60)
    service = make_service(model, writer={"max_tokens": 1000, "sentences": 100, "timeout": 60})
    app = create_app(service, settings)
    url = serve(app)
    with HTTP.stream("POST", url + "/api/chat", json={"question": PAY, "stream": True},
                     timeout=30) as reply:
        assert reply.headers["content-type"].startswith("text/event-stream")
        lines = reply.iter_lines()
        assert next(lines) == "event: sources"  # "\n" line ends, as the web chat splits them
        while model.written < 30:
            next(lines)  # model sentences go out as the model writes them
    # The connection is closed mid-answer: the generation stops at the next sentence and the
    # gate frees its place.
    assert model.stopped.wait(8), "the model kept writing for a client that went away"
    assert model.written < 450  # 8 s of writing after the first 30 words
    gate = app.state.advisor.gate
    deadline = time.monotonic() + 5
    while gate.generative and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gate.generative == 0


def test_routes_use_only_the_service_surface() -> None:
    """Routes call ChatService and Catalog, never the retriever's or the index's insides."""
    for path in API.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\bretriever\.|\.index\.", text), path
        assert not re.search(r"import[^\n]*\b_[A-Za-z]", text), path  # nothing private
