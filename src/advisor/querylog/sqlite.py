"""``SQLiteLog``: the query log in one SQLite file, for one machine."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from advisor.errors import QueryLogError
from advisor.querylog.log import MIGRATIONS, SCHEMA_VERSION, QueryLog

log = logging.getLogger(__name__)


class SQLiteLog(QueryLog):
    """A SQLite file written from many threads through one connection and a lock.

    A file that is not a readable SQLite database is moved aside (``<name>.corrupt-<time>``)
    with a warning and a new log starts; ``moved_aside`` says where it went.
    """

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = path
        self.where = str(path)
        self.moved_aside: Path | None = None
        self._lock = threading.Lock()
        if read_only:
            if not path.is_file():
                raise QueryLogError(
                    f"no query log at {path}: start the server and ask something first"
                )
            self._db = sqlite3.connect(
                f"file:{path}?mode=ro", uri=True, check_same_thread=False, timeout=10
            )
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise QueryLogError(f"cannot create the folder of the query log {path}: {exc}") from exc
        try:
            self._db = self._open()
        except sqlite3.DatabaseError as exc:
            if not _is_corrupt(exc):
                raise QueryLogError(f"cannot open the query log {path}: {exc}") from exc
            self.moved_aside = _move_aside(path)
            log.warning(
                "the query log %s is not a readable SQLite database (%s): moved it aside to %s "
                "and started a new log",
                path,
                exc,
                self.moved_aside,
            )
            self._db = self._open()

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=10)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            check = db.execute("PRAGMA quick_check").fetchone()
            if not check or check[0] != "ok":
                raise _CorruptError(f"quick_check says {check[0] if check else 'nothing'}")
            _migrate_sqlite(db)
        except BaseException:
            db.close()
            raise
        return db

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                with self._db:
                    yield self._db
            except sqlite3.Error as exc:
                raise QueryLogError(f"the query log {self.path} failed: {exc}") from exc

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()


class _CorruptError(sqlite3.DatabaseError):
    pass


def _is_corrupt(exc: sqlite3.DatabaseError) -> bool:
    """Corruption or not a database at all; not a locked file or a folder without access."""
    if isinstance(exc, _CorruptError):
        return True
    name = getattr(exc, "sqlite_errorname", "")
    return name in {"SQLITE_CORRUPT", "SQLITE_NOTADB"} or (
        not name and not isinstance(exc, sqlite3.OperationalError)
    )


def _move_aside(path: Path) -> Path:
    aside = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%d%H%M%S')}")
    for suffix in ("", "-wal", "-shm"):
        part = path.with_name(path.name + suffix)
        if part.exists():
            part.replace(aside.with_name(aside.name + suffix))
    return aside


_SQLITE_TABLES = """
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
    total_ms REAL,
    token_hash TEXT
);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ts REAL NOT NULL,
    query_id INTEGER NOT NULL REFERENCES queries(id),
    rating TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT ''
);
"""

def _migrate_sqlite(db: sqlite3.Connection) -> None:
    with db:
        db.executescript(_SQLITE_TABLES)
        columns = {row[1] for row in db.execute("PRAGMA table_info(queries)")}
        if "token_hash" not in columns:
            db.execute("ALTER TABLE queries ADD COLUMN token_hash TEXT")
        for step in MIGRATIONS:
            db.execute(step)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
