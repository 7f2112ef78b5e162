"""The SQLite query log and ``advisor report``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from advisor.api.querylog import QueryLog
from advisor.cli import main
from advisor.errors import InputError
from advisor.report import summarize_log
from advisor.types import Answer, Chunk, Hit


def answer(question: str, refused: bool, total: float) -> Answer:
    chunk = Chunk("c1", "2-Beekeeper", "2. Beekeeper", ("Skills",), "text", 0, 4, 1)
    return Answer(question=question, text="a", citations=(), hits=(Hit(chunk, 0.5, 1),),
                  refused=refused, mode="generative", query=question,
                  timings={"retrieval_ms": 10.0, "first_token_ms": total / 2, "total_ms": total})


def test_log_report_and_feedback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "var" / "queries.sqlite"
    log = QueryLog(path)
    first = log.record(answer("How do beekeepers work?", False, 1000.0), "2-Beekeeper")
    log.record(answer("Banana bread?", True, 100.0), None)
    log.record(answer("banana bread? ", True, 120.0), None)
    assert log.feedback(first, "up") and not log.feedback(12345, "down")
    stored = log.rows("SELECT question, career, chunks FROM queries WHERE id = ?", first)[0]
    assert stored[1] == "2-Beekeeper" and json.loads(stored[2])[0]["id"] == "c1"
    log.close()
    summary = summarize_log(path)
    assert summary["questions"] == 3
    assert summary["per_career"]["2-Beekeeper"] == 1
    assert summary["refusal_rate"] == pytest.approx(2 / 3, abs=1e-3)
    assert summary["uncovered"][0] == {"question": "banana bread?", "count": 2}
    assert summary["feedback"] == {"up": 1, "down": 0}
    assert main(["report", "--log", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["questions"] == 3
    assert main(["report", "--log", str(path)]) == 0
    assert "add these to the corpus" in capsys.readouterr().out


def test_report_on_a_missing_log_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        summarize_log(tmp_path / "nothing.sqlite")
    assert main(["report", "--log", str(tmp_path / "nothing.sqlite")]) == 2
