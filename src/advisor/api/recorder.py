"""The query log as the server uses it: every read and write on threads of its own, off the
event loop; a failure is logged and counted (``advisor_querylog_errors_total``) and never
keeps an answer from going out; old questions are purged at start and then daily."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from advisor.api.metrics import Metrics
from advisor.config import Settings
from advisor.querylog import DAY_S, QueryLog, open_query_log
from advisor.types import Answer

log = logging.getLogger(__name__)

T = TypeVar("T")


class Recorder:
    """Answers and votes into the query log (or nowhere, when the log is off)."""

    def __init__(self, store: QueryLog | None, metrics: Metrics, *, timeout: float = 5.0) -> None:
        self.store = store
        self.metrics = metrics
        self.timeout = timeout
        self._pool = (
            ThreadPoolExecutor(max_workers=store.workers, thread_name_prefix="querylog")
            if store is not None
            else None
        )

    @property
    def enabled(self) -> bool:
        """Whether questions are kept."""
        return self.store is not None

    async def _call(self, operation: str, fn: Callable[..., T], *args: Any) -> T | None:
        """``fn(*args)`` on the log's threads; None (logged and counted) when it fails."""
        if self._pool is None:
            return None
        loop = asyncio.get_running_loop()
        try:
            return await asyncio.wait_for(loop.run_in_executor(self._pool, fn, *args), self.timeout)
        except Exception as exc:  # noqa: BLE001 - no log failure may break an answer
            self.metrics.querylog_errors.labels(operation).inc()
            detail = "timed out" if isinstance(exc, TimeoutError) else f"{exc}"
            log.warning("query log %s failed: %s", operation, detail)
            return None

    async def record(self, answer: Answer, career: str | None) -> tuple[int | None, str | None]:
        """Store one answer; its query id and feedback token (both None if not stored)."""
        if self.store is None:
            return None, None
        stored = await self._call("record", self.store.record, answer, career)
        return stored if stored is not None else (None, None)

    async def feedback(self, token: str, rating: str, comment: str) -> bool | None:
        """Store a vote: True, False for an unknown token, None when the log failed."""
        if self.store is None:
            return None
        return await self._call("feedback", self.store.feedback, token, rating, comment)

    async def purge(self, days: int) -> int | None:
        """Delete questions older than ``days``."""
        if self.store is None:
            return None
        gone = await self._call("purge", self.store.purge, days)
        if gone:
            log.warning("query log: purged %d question(s) older than %d days", gone, days)
        return gone

    async def keep_for(self, days: int, *, every_s: float = DAY_S) -> None:
        """Purge now and then every ``every_s`` seconds, until cancelled."""
        while True:
            await self.purge(days)
            await asyncio.sleep(every_s)

    def close(self) -> None:
        """Finish pending writes and close the log."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=False)
        if self.store is not None:
            self.store.close()


def open_store(
    settings: Settings, metrics: Metrics, *, path: Path | None = None
) -> QueryLog | None:
    """The log the settings name (``path`` overrides the SQLite file), None when it is off or
    cannot be opened (logged and counted: the server answers without a log)."""
    try:
        return open_query_log(
            path=path or settings.query_log, database_url=None if path else settings.database_url
        )
    except Exception as exc:  # noqa: BLE001 - the advisor still answers without its log
        metrics.querylog_errors.labels("open").inc()
        log.error("the query log cannot be opened, questions are not kept: %s", exc)
        return None
