"""The ``Generator`` protocol: what the answer asks of a chat model. The backends are
``llamacpp`` (in process) and ``openai_compatible`` (a remote server).

Every stream passes through a ``RequestQueue`` (``request_queue``) that admits at most
``queue_size`` requests (running + waiting, ``BusyError`` beyond that) and lets ``slots`` of
them run at once, each holding its slot for the whole of its stream. The in-process model has
one slot, so llama.cpp is never entered by two threads at once; a remote server with parallel
slots (vLLM, llama.cpp's ``llama-server --parallel N``) gets ``ADVISOR_LLM_CONCURRENCY``
requests in flight.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Protocol

Messages = Sequence[Mapping[str, str]]


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
