"""What the app holds while it runs: settings, the chat service, metrics and the query log."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from advisor.answer import ChatService
from advisor.api.metrics import Metrics
from advisor.config import Settings

if TYPE_CHECKING:
    from advisor.api.admission import ModelGate
    from advisor.api.recorder import Recorder


@dataclass
class AppState:
    """Typed state of one app (``app.state.advisor``)."""

    settings: Settings
    metrics: Metrics
    service: ChatService | None = None
    querylog: Recorder | None = None
    gate: ModelGate | None = None
    error: str | None = None
    #: The build id of the index being served (``/readyz`` shows it).
    index_build: str | None = None
    ready: threading.Event = field(default_factory=threading.Event)

    def build(self) -> str | None:
        """The served index's build id, taken from the service when not yet known."""
        if self.index_build is None and self.service is not None:
            self.index_build = self.service.catalog.build_id
        return self.index_build
