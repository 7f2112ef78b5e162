"""The committed-baseline file: tolerances, drops, recording and refreshing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from advisor.errors import EvaluationError
from advisor.evals import baseline

REPO = Path(__file__).resolve().parents[2]


def test_one_flipped_case_is_tolerated_and_two_are_not() -> None:
    tol = baseline.tolerance_for("hit@1", 134)
    assert tol == pytest.approx(1 / 134 + 0.0005, abs=1e-4)
    one = baseline.Row("e", "hit@1", 0.8060, round(0.8060 - 1 / 134, 4), tol)
    two = baseline.Row("e", "hit@1", 0.8060, round(0.8060 - 2 / 134, 4), tol)
    assert not one.dropped and two.dropped
    assert not baseline.Row("e", "hit@1", 0.5, 0.9, tol).dropped  # a gain never fails
    # Lower is better for false refusals: a rise is the drop.
    assert baseline.Row("e", "false_refusal_rate", 0.0, 0.05, 0.01).dropped
    assert not baseline.Row("e", "false_refusal_rate", 0.05, 0.0, 0.01).dropped
    # Timings are shown, never judged.
    assert baseline.tolerance_for("latency_ms_p50", 134) is None
    assert not baseline.Row("e", "latency_ms_p50", 1.0, 900.0, None).dropped


def test_record_keeps_other_entries_and_refresh_runs_each_command_once(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    baseline.record(path, {"eval a hybrid": {"n": 10, "hit@1": 0.5, "by_kind": {}}},
                    command=["advisor", "eval", "a.jsonl", "--retriever", "all"])
    baseline.record(path, {"eval a bm25": {"n": 10, "hit@1": 0.4}},
                    command=["advisor", "eval", "a.jsonl", "--retriever", "all"])
    baseline.record(path, {"eval-answers a extractive": {"n": 12, "evidence_in_answer": 0.9}},
                    command=["advisor", "eval-answers", "a.jsonl", "--mode", "extractive"])
    data = json.loads(path.read_text(encoding="utf-8"))
    assert list(data["entries"]) == ["eval a bm25", "eval a hybrid", "eval-answers a extractive"]
    assert data["entries"]["eval a hybrid"]["figures"] == {"n": 10, "hit@1": 0.5}
    calls: list[list[str]] = []
    assert baseline.refresh(path, lambda argv: calls.append(argv) or 0) == 0
    assert calls == [
        ["eval", "a.jsonl", "--retriever", "all", "--write-baseline", str(path)],
        ["eval-answers", "a.jsonl", "--mode", "extractive", "--write-baseline", str(path)],
    ]
    assert baseline.refresh(path, lambda argv: 3, only="eval-answers") == 3
    with pytest.raises(EvaluationError, match="no command matching nothing"):
        baseline.refresh(path, lambda argv: 0, only="nothing")


def test_a_broken_baseline_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(EvaluationError, match="is not a baseline file"):
        baseline.compare(path, {"eval a hybrid": {"hit@1": 1.0}})


def test_the_committed_baseline_holds_every_dev_retriever_with_its_command() -> None:
    data = json.loads((REPO / "evals" / "baseline.json").read_text(encoding="utf-8"))
    entries = data["entries"]
    for cases in ("dev_questions", "dev_conversations"):
        for mode in ("bm25", "dense", "hybrid"):
            entry = entries[f"eval {cases} {mode}"]
            assert entry["command"] == f"advisor eval ../shared/bench/{cases}.jsonl --retriever all"
            assert 0.5 < entry["figures"]["hit@5"] <= 1.0
            assert entry["tolerance"]["hit@5"] == baseline.tolerance_for(
                "hit@5", entry["figures"]["n"])


def test_a_rate_over_fewer_cases_gets_its_own_tolerance(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    baseline.record(path, {"eval-answers a extractive": {"n": 146, "refusal_rate_offtopic": 1.0,
                                                         "evidence_in_answer": 0.9}},
                    command=["advisor", "eval-answers", "a.jsonl"],
                    denominators={"refusal_rate_offtopic": 12, "evidence_in_answer": 134})
    tol = json.loads(path.read_text(encoding="utf-8"))["entries"]["eval-answers a extractive"]
    assert tol["tolerance"]["refusal_rate_offtopic"] == baseline.tolerance_for("x", 12)
    assert tol["tolerance"]["evidence_in_answer"] == baseline.tolerance_for("x", 134)
