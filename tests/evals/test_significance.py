"""Paired significance tests between runs (ranx.compare, Bonferroni) and TREC run files."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor.errors import EvaluationError
from advisor.evals.report import format_comparison
from advisor.evals.significance import compare_runs, mean_rows, pair_rows, read_trec_runs

# 40 queries, one relevant document each ("rel").
QRELS = {f"q{i}": {"rel": 1} for i in range(40)}
GOOD = {q: {"rel": 2.0, "x": 1.0} for q in QRELS}  # relevant at rank 1 everywhere
BAD = {q: {"x": 2.0, "y": 1.0, **({"rel": 0.5} if i % 4 == 0 else {})}
       for i, q in enumerate(QRELS)}  # relevant at rank 3 in a quarter of the queries


@pytest.mark.parametrize("stat_test", ["fisher", "student"])
def test_a_clear_win_is_significant_and_a_tie_is_not(stat_test: str) -> None:
    comp = compare_runs(QRELS, {"good": GOOD, "bad": BAD, "same": dict(GOOD)},
                        ["hit@1", "mrr@10"], stat_test=stat_test)  # type: ignore[arg-type]
    pairs = {(p.a, p.b, p.metric): p for p in comp.pairs}
    win = pairs[("good", "bad", "hit@1")]
    assert win.mean_a == 1.0 and win.mean_b == 0.0
    assert win.significant and win.winner == "good"
    # Three runs: three pairs per metric, so the corrected p-value is three times the raw one.
    assert win.p_corrected == pytest.approx(min(1.0, 3 * win.p_value))
    tie = pairs[("good", "same", "mrr@10")]
    assert not tie.significant and tie.winner is None
    assert comp.as_json("bad")["good"]["hit@1"]["winner"] == "good"


def test_bonferroni_can_undo_a_borderline_win() -> None:
    # One run better on 5 of 40 queries: p about 0.02 alone, significant at 0.05; not after x3.
    edge = {q: ({"rel": 2.0, "x": 1.0} if i < 5 else {"x": 2.0, "rel": 1.0})
            for i, q in enumerate(QRELS)}
    base = {q: {"x": 2.0, "rel": 1.0} for q in QRELS}
    alone = compare_runs(QRELS, {"edge": edge, "base": base}, ["hit@1"], stat_test="student")
    three = compare_runs(QRELS, {"edge": edge, "base": base, "copy": dict(base)}, ["hit@1"],
                         stat_test="student")
    p = alone.pairs[0].p_value
    assert 0.05 / 3 < p < 0.05, p  # the data were chosen for this
    assert alone.pairs[0].significant
    assert not next(x for x in three.pairs if {x.a, x.b} == {"edge", "base"}).significant


def test_tables_mark_the_runs_beaten() -> None:
    comp = compare_runs(QRELS, {"good": GOOD, "bad": BAD}, ["hit@1"])
    means = mean_rows(comp)
    assert means[1][:2] == ["a", "good"] and means[1][2] == "1.000 >b"
    assert means[2][2] == "0.000"
    assert pair_rows(comp)[1][-1] == "good wins *"
    text = format_comparison(comp)
    assert "Bonferroni over 1 pair(s)" in text and "p x pairs" in text


def test_one_run_is_not_a_comparison() -> None:
    with pytest.raises(EvaluationError, match="at least two runs"):
        compare_runs(QRELS, {"good": GOOD}, ["hit@1"])


def test_trec_runs_split_by_tag_and_name_clashes(tmp_path: Path) -> None:
    a = tmp_path / "a.trec"
    a.write_text("q1 Q0 d1 1 9.0 advisor-bm25\nq1 Q0 d2 2 8.0 advisor-bm25\n"
                 "q1 Q0 d2 1 5.0 advisor-dense\n", encoding="utf-8")
    b = tmp_path / "b.trec"
    b.write_text("q1 Q0 d3 1 1.0 advisor-bm25\n", encoding="utf-8")
    runs = read_trec_runs([a, b])
    assert sorted(runs) == ["a/advisor-bm25", "advisor-dense", "b/advisor-bm25"]
    ranked = runs["a/advisor-bm25"]["q1"]
    assert ranked["d1"] > ranked["d2"]  # by rank, whatever the scores
    bad = tmp_path / "bad.trec"
    bad.write_text("q1 Q0 d1 first 1.0 tag\n", encoding="utf-8")
    with pytest.raises(EvaluationError, match=r"bad\.trec:1: not a TREC run line"):
        read_trec_runs([bad])
