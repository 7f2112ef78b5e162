"""What the app holds while it runs: settings, the chat service, metrics and the query log."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from advisor.api.metrics import Metrics
from advisor.api.querylog import QueryLog
from advisor.chat import ChatService
from advisor.config import Settings


@dataclass
class AppState:
    """Typed state of one app (``app.state.advisor``)."""

    settings: Settings
    metrics: Metrics
    service: ChatService | None = None
    querylog: QueryLog | None = None
    error: str | None = None
    ready: threading.Event = field(default_factory=threading.Event)
