"""``RequestQueue``: the bounded admission and the turns every model stream passes through."""

from __future__ import annotations

import collections.abc
import itertools
import threading
import time
from collections.abc import Callable

from advisor.errors import BusyError, GenerationError

#: What a generator's ``stream`` returns: text pieces whose ``close()`` frees the model early.
Pieces = collections.abc.Generator[str, None, None]


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


class Queued:
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
