"""Hot index reload: a running server picks up a rebuilt index without a restart.

``advisor index`` (or the Kubernetes index Job) writes each build into a folder of its own and
repoints the index link at it. The watcher looks at the link every ``reload_s`` seconds and on
SIGHUP; when it names another build, the watcher loads that folder aside (the manifest and
every file checked by ``load_index``), builds a service around it with the same embedder and
model, and swaps the service in with one assignment. Requests already running finish on the
old index. A build that fails to load is refused and logged, and the old index keeps serving.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
from pathlib import Path

from advisor.api.state import AppState
from advisor.corpus import ChunkerSettings

log = logging.getLogger(__name__)


class IndexWatcher:
    """Swaps a newer build behind ``link`` into ``state.service``."""

    def __init__(self, state: AppState, *, link: Path, chunker: ChunkerSettings) -> None:
        self.state = state
        self.link = link
        self.chunker = chunker
        self.refused: str | None = None
        self._checking = threading.Lock()
        self._wake: asyncio.Event | None = None

    def check(self) -> str:
        """Look once: 'unchanged', 'swapped' or 'refused' (runs in a worker thread)."""
        from advisor.wiring import reopen

        with self._checking:
            service = self.state.service
            if service is None or not self.state.ready.is_set():
                return "unchanged"
            try:
                target = Path(os.path.realpath(self.link))
            except OSError:
                return "unchanged"
            build = target.name.lstrip(".")
            if build in (self.state.build(), self.refused) or not target.is_dir():
                return "unchanged"
            try:
                fresh = reopen(service, target, chunker=self.chunker)
            except Exception as exc:  # noqa: BLE001 - any failure keeps the old index serving
                self.refused = build
                self.state.metrics.index_reloads.labels("refused").inc()
                log.error(
                    "refused the new index %s (%s); still serving %s",
                    build,
                    exc,
                    self.state.index_build,
                )
                return "refused"
            old = self.state.index_build
            self.state.service = fresh  # one assignment: each request sees one index or the other
            self.state.index_build = build
            self.state.metrics.index_reloads.labels("swapped").inc()
            log.warning(
                "swapped in index %s (%d chunks) in place of %s", build, fresh.catalog.size, old
            )
            return "swapped"

    def wake(self) -> None:
        """Check now (the SIGHUP handler)."""
        if self._wake is not None:
            self._wake.set()

    async def run(self, every_s: float) -> None:
        """Check every ``every_s`` seconds (0: only when woken) and on SIGHUP, until cancelled."""
        self._wake = asyncio.Event()
        loop = asyncio.get_running_loop()
        try:
            loop.add_signal_handler(signal.SIGHUP, self.wake)
        except (ValueError, RuntimeError, NotImplementedError, AttributeError):
            pass  # not the main thread (tests), or no SIGHUP on this platform
        try:
            while True:
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=every_s or None)
                except TimeoutError:
                    pass
                self._wake.clear()
                await loop.run_in_executor(None, self.check)
        finally:
            try:
                loop.remove_signal_handler(signal.SIGHUP)
            except (ValueError, RuntimeError, NotImplementedError, AttributeError):
                pass
