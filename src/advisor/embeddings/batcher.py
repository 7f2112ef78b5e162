"""Encode queries that arrive together in one forward pass: the query encoder of a busy server,
with admission control."""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout

from advisor.embeddings.embedder import Embedder, Vectors
from advisor.errors import OverloadedError

log = logging.getLogger(__name__)


class BatchingEmbedder:
    """Encodes queries that arrive together in one forward pass (for a busy server).

    On a small CPU one query's forward pass is mostly fixed overhead: sixteen queries encoded
    as one batch cost a fraction of sixteen single passes. A worker thread takes whatever
    queries are waiting (up to ``max_batch``) and answers them all at once.

    Admission control: at most ``max_waiting`` queries wait; one more, or one that waits longer
    than ``timeout`` seconds, raises ``OverloadedError`` (the API answers 503 + Retry-After).
    A caller that gives up (cancelled, timed out) leaves a cancelled future that the worker
    skips; nothing a caller does can stop the worker.
    """

    def __init__(
        self,
        inner: Embedder,
        *,
        max_batch: int = 8,
        max_waiting: int = 64,
        timeout: float = 5.0,
    ) -> None:
        self.inner = inner
        self.name = inner.name
        # Eight at most: at 16 clients two batches of 8 go through in turn where one of 16
        # made every query wait for the whole pass (p95 at 16 clients lower, same req/s).
        self.max_batch = max_batch
        self.max_waiting = max_waiting
        self.timeout = timeout
        self._queue: queue.Queue[tuple[str, Future[Vectors]]] = queue.Queue(maxsize=max_waiting)
        self._worker = threading.Thread(target=self._run, name="query-batcher", daemon=True)
        self._worker.start()

    @property
    def dim(self) -> int:
        """Vector size of the wrapped embedder."""
        return self.inner.dim

    @property
    def waiting(self) -> int:
        """Queries queued for the next batches."""
        return self._queue.qsize()

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> Vectors:
        """Passages go straight to the wrapped embedder."""
        return self.inner.embed(texts, progress=progress)

    def embed_query(self, text: str) -> Vectors:
        """One query's vector, encoded together with any others waiting."""
        future = self.submit(text)
        try:
            return future.result(timeout=self.timeout)
        except FutureTimeout:
            future.cancel()
            raise self._too_slow() from None

    async def embed_query_async(self, text: str) -> Vectors:
        """``embed_query`` for an event loop: awaits the batch without holding a thread."""
        future = self.submit(text)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), self.timeout)
        except TimeoutError:
            future.cancel()
            raise self._too_slow() from None

    def submit(self, text: str) -> Future[Vectors]:
        """Queue one query for the next batch; the future holds its vector."""
        future: Future[Vectors] = Future()
        try:
            self._queue.put_nowait((text, future))
        except queue.Full:
            raise OverloadedError(
                f"{self.max_waiting} searches are already waiting; please retry in a second",
                retry_after=1.0,
            ) from None
        return future

    def _too_slow(self) -> OverloadedError:
        return OverloadedError(
            f"the search did not get its turn within {self.timeout:g} s; please retry shortly",
            retry_after=1.0,
        )

    def _run(self) -> None:
        while True:
            try:
                self._serve_batch()
            except Exception:  # noqa: BLE001 - the only worker: log and go on serving
                log.exception("query batcher: a batch failed unexpectedly")

    def _serve_batch(self) -> None:
        batch = [self._queue.get()]
        while len(batch) < self.max_batch:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        # False for a future its caller cancelled; once True, no cancel() can succeed, so
        # set_result below cannot raise InvalidStateError (which killed the worker before).
        live = [(text, future) for text, future in batch if future.set_running_or_notify_cancel()]
        if not live:
            return
        try:
            vectors = self.inner.embed([text for text, _ in live])
        except Exception as exc:  # noqa: BLE001 - handed to every waiting caller
            for _, future in live:
                future.set_exception(exc)
            return
        for row, (_, future) in enumerate(live):
            future.set_result(vectors[row])
