"""Busy fallback: answer from the documents at once when the model would keep a student waiting.

Before a chat request starts, ``choose_mode`` estimates how long it would wait for the model:
the requests ahead of it (queue depth minus the model's parallel slots), times the measured
generation time (the moving average, or the time the longest running generation has taken
so far when that is longer), divided by the slots. Above ``max_wait_s`` the answer is made
extractive, with a one-line notice and ``mode = "extractive_busy"``. A request that asked
for ``generative`` explicitly waits in line (503 only when the queue is full). Extractive
answers have a bound of their own: beyond it, the server is truly overloaded and answers 503.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from advisor.answer import ChatService
from advisor.errors import BusyError
from advisor.types import ChatEvent

BUSY_MODE = "extractive_busy"
BUSY_NOTICE = "the advisor is busy, so this answer quotes the documents directly"


class ModelGate:
    """Counts the chat requests headed for the model and those answered extractively, and
    decides each new request's mode. Thread-safe; one per app."""

    def __init__(self, *, max_wait_s: float, prior_s: float, extractive_limit: int) -> None:
        self.max_wait_s = max_wait_s
        #: Assumed generation time until the first one is measured: the worst case.
        self.prior_s = prior_s
        self.extractive_limit = extractive_limit
        self.generative = 0
        self.extractive = 0
        self._lock = threading.Lock()

    def expected_wait(self, generator: Any) -> float:
        """Seconds a new request would wait before its generation starts (infinite when the
        model's queue is full: it would get a 503)."""
        slots = max(1, int(getattr(generator, "concurrency", 1) or 1))
        depth = max(self.generative, int(getattr(generator, "queue_depth", 0) or 0))
        size = getattr(getattr(generator, "queue", None), "size", None)
        if isinstance(size, int) and depth >= size:
            return float("inf")
        ahead = depth - slots + 1
        if ahead <= 0:
            return 0.0
        mean = getattr(generator, "mean_seconds", None)
        turn = self.prior_s if mean is None else float(mean)
        # A generation running longer than the average (a loaded CPU, a long answer) is the
        # better guess for the turns ahead.
        turn = max(turn, float(getattr(generator, "running_seconds", 0.0) or 0.0))
        return ahead * turn / slots

    def decide(self, service: ChatService, requested: str | None) -> Decision:
        """The mode for one request, with its place reserved (free it with ``release``)."""
        default = service.settings.mode
        generator = service.generator
        with self._lock:
            asked = requested == "generative"
            soon = (
                requested is None
                and default == "generative"
                and self.expected_wait(generator) <= self.max_wait_s
            )
            if generator is not None and (asked or soon):
                self.generative += 1
                return Decision(mode=requested, busy=False, gate=self, kind="generative")
            if self.extractive >= self.extractive_limit:
                raise BusyError(
                    f"the advisor is overloaded: {self.extractive} answers are being made",
                    retry_after=2.0,
                )
            self.extractive += 1
            busy = generator is not None and requested is None and default == "generative"
            mode = "extractive" if busy else requested
            return Decision(mode=mode, busy=busy, gate=self, kind="extractive")

    def _release(self, kind: str) -> None:
        with self._lock:
            if kind == "generative":
                self.generative -= 1
            else:
                self.extractive -= 1


@dataclass
class Decision:
    """One request's mode (None: the service's default) and its place at the gate."""

    mode: Any
    busy: bool
    gate: ModelGate | None = None
    kind: str = "extractive"
    _released: bool = field(default=False, repr=False)

    def release(self) -> None:
        """Free the place (idempotent)."""
        if not self._released and self.gate is not None:
            self._released = True
            self.gate._release(self.kind)

    def wrap(self, events: Iterator[ChatEvent]) -> Iterator[ChatEvent]:
        """The events, the busy notice added to the answer, the place freed at the end."""
        try:
            for event in events:
                answer = event.answer
                if self.busy and event.kind == "done" and answer is not None:
                    if not answer.refused:
                        answer = replace(
                            answer, mode=BUSY_MODE, notices=(*answer.notices, BUSY_NOTICE)
                        )
                    event = replace(event, answer=answer)
                yield event
        finally:
            # Closed early (a client went away): stop the answer now, which frees the model.
            close = getattr(events, "close", None)
            if close is not None:
                close()
            self.release()


def choose_mode(gate: ModelGate | None, service: ChatService, requested: str | None) -> Decision:
    """The decision the chat and /v1 routes make before answering."""
    if gate is None:
        return Decision(mode=requested, busy=False)
    return gate.decide(service, requested)
