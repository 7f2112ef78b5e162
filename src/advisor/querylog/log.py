"""The query log: every question (personal details scrubbed), what was retrieved, how long it
took, and at most one vote per answer.

SQLite for one machine (``sqlite.py``); PostgreSQL for replicas that share one log
(``postgres.py``). Both keep the same tables and answer the same SQL, so the report and the
API never ask which one they have. Every answer gets an unguessable feedback token; only its
sha256 is stored, and a vote must bring the token itself.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from advisor.types import Answer

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2
DAY_S = 86400.0
TOKEN_PATTERN = r"^[A-Za-z0-9_-]{16,128}$"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Digit groups joined by spaces, dots, hyphens or brackets ("+94 77 123 4567", "(555) 123-4567");
# a group never starts right after a comma or dot, so "60,000 - 80,000" stays a salary.
_PHONE = re.compile(r"(?<![\w.,+])\+?\(?\d{1,4}\)?(?:[ .-]{0,2}\(?\d{2,5}\)?){1,5}(?!\w)")
_GROUPED = re.compile(r"\d[ .()-]+\d")
_DIGITS = re.compile(r"\d{7,}")
PHONE_DIGITS = 7


def scrub(text: str) -> str:
    """The text without e-mail addresses, phone numbers and long digit runs (ids)."""
    text = _EMAIL.sub("[email]", text)

    def phone(match: re.Match[str]) -> str:
        found, tail = match.group(0), ""
        if found.endswith(")") and "(" not in found:
            found, tail = found[:-1], ")"  # the bracket closes the sentence, not the number
        digits = sum(ch.isdigit() for ch in found)
        # One unbroken run is an id, not a phone number: the digit rule below names it.
        if digits >= PHONE_DIGITS and _GROUPED.search(found):
            return "[phone]" + tail
        return match.group(0)

    text = _PHONE.sub(phone, text)
    return _DIGITS.sub("[number]", text)


def token_hash(token: str) -> str:
    """What the log keeps of a feedback token: a leaked log forges no votes."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class QueryLog:
    """The SQL both back ends share; a subclass opens connections and creates the schema.

    ``workers`` is how many threads may use the log at once (one SQLite connection, or the
    PostgreSQL pool's size).
    """

    workers = 1
    placeholder = "?"
    where = ""

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        """A connection whose ``execute(sql, params)`` runs in one transaction."""
        raise NotImplementedError
        yield  # pragma: no cover

    def _q(self, sql: str) -> str:
        return sql if self.placeholder == "?" else sql.replace("?", self.placeholder)

    def record(self, answer: Answer, career: str | None) -> tuple[int, str]:
        """Store one answered question, scrubbed; returns its id and its feedback token."""
        token = secrets.token_urlsafe(24)
        chunks = [{"id": h.chunk.chunk_id, "score": h.score} for h in answer.hits]
        t = answer.timings
        params = (
            time.time(),
            scrub(answer.question),
            scrub(answer.query),
            career,
            json.dumps(chunks),
            int(answer.refused),
            answer.mode,
            t.get("retrieval_ms"),
            t.get("first_token_ms"),
            t.get("total_ms"),
            token_hash(token),
        )
        sql = (
            "INSERT INTO queries (ts, question, query, career, chunks, refused, mode, "
            "retrieval_ms, first_token_ms, total_ms, token_hash) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?) RETURNING id"
        )
        with self._transaction() as db:
            row = db.execute(self._q(sql), params).fetchone()
        return int(row[0]), token

    def feedback(self, token: str, rating: str, comment: str = "") -> bool:
        """Store a vote on the answer the token came with (a second vote replaces the first);
        False when no answer has that token."""
        with self._transaction() as db:
            row = db.execute(
                self._q("SELECT id FROM queries WHERE token_hash = ?"), (token_hash(token),)
            ).fetchone()
            if row is None:
                return False
            db.execute(
                self._q(
                    "INSERT INTO feedback (ts, query_id, rating, comment) VALUES (?,?,?,?) "
                    "ON CONFLICT (query_id) DO UPDATE SET ts = excluded.ts, "
                    "rating = excluded.rating, comment = excluded.comment"
                ),
                (time.time(), int(row[0]), rating, scrub(comment)),
            )
        return True

    def purge(self, days: int, *, now: float | None = None) -> int:
        """Delete questions (and their votes) older than ``days``; returns how many went."""
        cutoff = (time.time() if now is None else now) - days * DAY_S
        with self._transaction() as db:
            old = "SELECT id FROM queries WHERE ts < ?"
            db.execute(self._q(f"DELETE FROM feedback WHERE query_id IN ({old})"), (cutoff,))
            gone = db.execute(self._q("DELETE FROM queries WHERE ts < ?"), (cutoff,)).rowcount
        return int(gone or 0)

    def rows(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        """Rows of a read query (``?`` placeholders), for the report and tests."""
        with self._transaction() as db:
            cursor = db.execute(self._q(sql), args)
            return [tuple(r) for r in cursor.fetchall()] if cursor.description else []

    def close(self) -> None:
        """Close connections."""


#: Steps after the tables exist, for logs written by older versions too (each is idempotent).
MIGRATIONS = (
    # Version 1 stored every vote; keep the latest per answer before votes become unique.
    "DELETE FROM feedback WHERE id NOT IN (SELECT max(id) FROM feedback GROUP BY query_id)",
    "CREATE UNIQUE INDEX IF NOT EXISTS feedback_query_id ON feedback (query_id)",
    "CREATE UNIQUE INDEX IF NOT EXISTS queries_token_hash ON queries (token_hash)",
    "CREATE INDEX IF NOT EXISTS queries_ts ON queries (ts)",
)
