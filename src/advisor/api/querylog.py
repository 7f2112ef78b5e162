"""The query log: every question, what was retrieved, how long it took, and user feedback."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from advisor.types import Answer

_SCHEMA = """
CREATE TABLE IF NOT EXISTS queries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL,
    question TEXT NOT NULL,
    query TEXT NOT NULL,
    career TEXT,
    chunks TEXT NOT NULL,
    refused INTEGER NOT NULL,
    mode TEXT NOT NULL,
    retrieval_ms REAL,
    first_token_ms REAL,
    total_ms REAL
);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL,
    query_id INTEGER NOT NULL REFERENCES queries(id),
    rating TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT ''
);
"""


class QueryLog:
    """A SQLite file written from many threads through one connection and a lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def record(self, answer: Answer, career: str | None) -> int:
        """Store one answered question; returns its id."""
        chunks = [{"id": h.chunk.chunk_id, "score": h.score} for h in answer.hits]
        t = answer.timings
        with self._lock, self._db:
            cur = self._db.execute(
                "INSERT INTO queries (ts, question, query, career, chunks, refused, mode, "
                "retrieval_ms, first_token_ms, total_ms) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    time.time(),
                    answer.question,
                    answer.query,
                    career,
                    json.dumps(chunks),
                    int(answer.refused),
                    answer.mode,
                    t.get("retrieval_ms"),
                    t.get("first_token_ms"),
                    t.get("total_ms"),
                ),
            )
            return int(cur.lastrowid or 0)

    def feedback(self, query_id: int, rating: str, comment: str = "") -> bool:
        """Store a thumbs up/down; False when the query id is unknown."""
        with self._lock, self._db:
            known = self._db.execute("SELECT 1 FROM queries WHERE id = ?", (query_id,)).fetchone()
            if not known:
                return False
            self._db.execute(
                "INSERT INTO feedback (ts, query_id, rating, comment) VALUES (?,?,?,?)",
                (time.time(), query_id, rating, comment),
            )
            return True

    def rows(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        """Rows of a read query (for reports and tests)."""
        with self._lock:
            return list(self._db.execute(sql, args).fetchall())

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()
