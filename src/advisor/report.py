"""``advisor report``: what students asked, what was refused, how fast it was."""

from __future__ import annotations

import json
import sqlite3
import statistics
from pathlib import Path
from typing import Any

from advisor.errors import InputError


def summarize_log(path: Path, *, top: int = 10) -> dict[str, Any]:
    """Questions per career, refusal rate, latency percentiles, frequent uncovered questions."""
    if not path.is_file():
        raise InputError(f"no query log at {path}: start the server and ask something first")
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = db.execute(
            "SELECT career, refused, total_ms, first_token_ms FROM queries"
        ).fetchall()
        uncovered = db.execute(
            "SELECT lower(trim(question)) AS q, count(*) AS n FROM queries WHERE refused = 1 "
            "GROUP BY q ORDER BY n DESC, q LIMIT ?",
            (top,),
        ).fetchall()
        ratings = dict(db.execute("SELECT rating, count(*) FROM feedback GROUP BY rating"))
    except sqlite3.DatabaseError as exc:
        raise InputError(f"{path} is not a query log: {exc}") from exc
    finally:
        db.close()
    per_career: dict[str, int] = {}
    for career, *_ in rows:
        key = career or "(no career named)"
        per_career[key] = per_career.get(key, 0) + 1
    totals = sorted(r[2] for r in rows if r[2] is not None)
    firsts = sorted(r[3] for r in rows if r[3] is not None)
    return {
        "questions": len(rows),
        "per_career": dict(sorted(per_career.items(), key=lambda kv: (-kv[1], kv[0]))),
        "refusal_rate": round(sum(r[1] for r in rows) / len(rows), 4) if rows else 0.0,
        "total_ms": _percentiles(totals),
        "first_token_ms": _percentiles(firsts),
        "uncovered": [{"question": q, "count": n} for q, n in uncovered],
        "feedback": {"up": ratings.get("up", 0), "down": ratings.get("down", 0)},
    }


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": 0.0, "p95": 0.0}
    p95 = values[min(len(values) - 1, int(round(0.95 * len(values) + 0.5)) - 1)]
    return {"p50": round(statistics.median(values), 1), "p95": round(p95, 1)}


def print_report(path: Path, *, as_json: bool = False) -> int:
    """Print the summary as text or JSON."""
    summary = summarize_log(path)
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
