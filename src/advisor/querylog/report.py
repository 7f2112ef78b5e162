"""``advisor report``: what students asked, what was refused, how fast it was."""

from __future__ import annotations

import json
import re
import statistics
from pathlib import Path
from typing import Any

from advisor.errors import InputError, QueryLogError
from advisor.querylog.log import QueryLog
from advisor.querylog.sqlite import SQLiteLog

# Control characters (C0, DEL, C1) and the invisible ones that reorder or hide text (bidi
# embeddings, overrides and isolates, zero-width marks): a question must not repaint the
# counselor's terminal or show words in another order than they were typed.
_UNPRINTABLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]"
)


def printable(text: str) -> str:
    """The text without control and bidi characters, whitespace runs folded to one space."""
    return " ".join(_UNPRINTABLE.sub(" ", text).split())


def summarize(store: QueryLog, *, top: int = 10) -> dict[str, Any]:
    """Questions per career, refusal rate, latency percentiles, frequent uncovered questions."""
    rows = store.rows("SELECT career, refused, total_ms, first_token_ms FROM queries")
    uncovered = store.rows(
        "SELECT lower(trim(question)) AS q, count(*) AS n FROM queries WHERE refused = 1 "
        "GROUP BY q ORDER BY n DESC, q LIMIT ?",
        top,
    )
    ratings = dict(store.rows("SELECT rating, count(*) FROM feedback GROUP BY rating"))
    per_career: dict[str, int] = {}
    for career, *_ in rows:
        key = printable(career) if career else "(no career named)"
        per_career[key] = per_career.get(key, 0) + 1
    totals = sorted(float(r[2]) for r in rows if r[2] is not None)
    firsts = sorted(float(r[3]) for r in rows if r[3] is not None)
    return {
        "questions": len(rows),
        "per_career": dict(sorted(per_career.items(), key=lambda kv: (-kv[1], kv[0]))),
        "refusal_rate": round(sum(int(r[1]) for r in rows) / len(rows), 4) if rows else 0.0,
        "total_ms": _percentiles(totals),
        "first_token_ms": _percentiles(firsts),
        "uncovered": [{"question": printable(q), "count": int(n)} for q, n in uncovered],
        "feedback": {"up": int(ratings.get("up", 0)), "down": int(ratings.get("down", 0))},
    }


def summarize_log(path: Path, *, top: int = 10) -> dict[str, Any]:
    """``summarize`` of a SQLite log file, opened read-only."""
    try:
        store = SQLiteLog(path, read_only=True)
    except QueryLogError as exc:
        raise InputError(str(exc)) from exc
    try:
        return summarize(store, top=top)
    except QueryLogError as exc:
        raise InputError(f"{path} is not a query log: {exc}") from exc
    finally:
        store.close()


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": 0.0, "p95": 0.0}
    p95 = values[min(len(values) - 1, int(round(0.95 * len(values) + 0.5)) - 1)]
    return {"p50": round(statistics.median(values), 1), "p95": round(p95, 1)}


def print_summary(summary: dict[str, Any], *, as_json: bool = False) -> int:
    """Print a summary as text or JSON."""
    if as_json:
        print(json.dumps(summary, ensure_ascii=False))
        return 0
    print(f"questions: {summary['questions']}   refusal rate: {summary['refusal_rate']:.1%}")
    print(
        f"answer time p50/p95: {summary['total_ms']['p50']} / {summary['total_ms']['p95']} ms; "
        f"first token p50/p95: {summary['first_token_ms']['p50']} / "
        f"{summary['first_token_ms']['p95']} ms"
    )
    print(f"feedback: {summary['feedback']['up']} up, {summary['feedback']['down']} down")
    print("questions per career:")
    for career, n in summary["per_career"].items():
        print(f"  {n:>5}  {career}")
    print("most frequent questions the documents do not cover (add these to the corpus):")
    for item in summary["uncovered"] or [{"question": "(none)", "count": 0}]:
        print(f"  {item['count']:>5}  {item['question']}")
    return 0


def print_report(path: Path, *, as_json: bool = False) -> int:
    """Print the summary of a SQLite log as text or JSON."""
    return print_summary(summarize_log(path), as_json=as_json)
