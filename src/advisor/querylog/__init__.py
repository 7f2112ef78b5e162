"""The query log: what students asked (personal details scrubbed), what was retrieved, how long
it took, their votes, kept for a number of days; and the report over it.

- ``log.py``      ``QueryLog``: the tables, scrubbing, feedback tokens, retention, report data
- ``sqlite.py``   the log in SQLite (one machine)
- ``postgres.py`` the log in PostgreSQL (replicas), psycopg 3 with a pool
- ``report.py``   advisor report: what students asked, refusals, latency

Exports ``QueryLog``, ``open_query_log`` (the backend the settings name, imported only then),
``scrub``, ``token_hash``, ``DAY_S``, ``TOKEN_PATTERN`` and the report's ``summarize``,
``print_summary`` and ``print_report``.
"""

from __future__ import annotations

from pathlib import Path

from advisor.querylog.log import DAY_S, TOKEN_PATTERN, QueryLog, scrub, token_hash
from advisor.querylog.report import print_report, print_summary, summarize

__all__ = ["DAY_S", "TOKEN_PATTERN", "QueryLog", "open_query_log", "print_report",
           "print_summary", "scrub", "summarize", "token_hash"]


def open_query_log(
    *, path: Path | None, database_url: str | None, read_only: bool = False
) -> QueryLog | None:
    """The log the settings name: PostgreSQL by URL, else SQLite at ``path``; None when the
    log is off (``path`` is ``off``, whatever the URL: the chat page then says nothing is kept)."""
    if path is not None and str(path) == "off":
        return None
    if database_url:
        from advisor.querylog.postgres import PostgresLog

        return PostgresLog(database_url)
    if path is None:
        return None
    from advisor.querylog.sqlite import SQLiteLog

    return SQLiteLog(path, read_only=read_only)
