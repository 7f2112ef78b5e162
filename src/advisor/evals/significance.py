"""Is a difference between runs real? Paired tests per query, ranx's (as ``ranx.compare``).

Every pair of runs is tested on every metric (Fisher's randomization test or Student's paired
t-test over the per-query scores). With k runs there are k(k-1)/2 pairs per metric, so each
p-value is Bonferroni-corrected by that count: a win is significant when p * pairs < alpha.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from advisor.errors import EvaluationError

StatTest = Literal["fisher", "student"]
Ranked = dict[str, dict[str, float]]
#: Figures compared for runs judged by the evidence rule, and for runs judged by BEIR qrels.
COMPARE_KEYS = ("hit@1", "hit@5", "mrr@10", "ndcg@10")
JUDGED_COMPARE_KEYS = ("hit@1", "mrr@10", "ndcg@10", "recall@100", "map@100")
_RANX = {"hit@1": "hit_rate@1", "hit@3": "hit_rate@3", "hit@5": "hit_rate@5",
         "hit@10": "hit_rate@10"}


@dataclass(frozen=True)
class PairResult:
    """One metric of one pair of runs: the means, the raw and the corrected p-value."""

    a: str
    b: str
    metric: str
    mean_a: float
    mean_b: float
    p_value: float
    p_corrected: float
    significant: bool

    @property
    def winner(self) -> str | None:
        """The run that is significantly better, if any."""
        if not self.significant or self.mean_a == self.mean_b:
            return None
        return self.a if self.mean_a > self.mean_b else self.b


@dataclass(frozen=True)
class Comparison:
    """Every pair of runs on every metric."""

    runs: tuple[str, ...]
    metrics: tuple[str, ...]
    means: dict[str, dict[str, float]]
    pairs: tuple[PairResult, ...]
    stat_test: str
    alpha: float
    n_queries: int

    def as_json(self, run: str) -> dict[str, dict[str, dict[str, Any]]]:
        """One run's comparisons: other run -> metric -> p-values and verdict."""
        out: dict[str, dict[str, dict[str, Any]]] = {}
        for p in self.pairs:
            if run not in (p.a, p.b):
                continue
            other = p.b if p.a == run else p.a
            out.setdefault(other, {})[p.metric] = {
                "p_value": round(p.p_value, 6),
                "p_bonferroni": round(p.p_corrected, 6),
                "significant": p.significant,
                "winner": p.winner,
            }
        return out


def compare_runs(
    qrels: Mapping[str, Mapping[str, int]],
    runs: Mapping[str, Ranked],
    metrics: Sequence[str],
    *,
    stat_test: StatTest = "fisher",
    alpha: float = 0.05,
    permutations: int = 10_000,
) -> Comparison:
    """Test every pair of runs on every metric against the same judgments."""
    from ranx.statistical_tests import compute_statistical_significance

    from advisor.evals.retrieval import ranx_scores

    names = list(runs)
    if len(names) < 2:
        raise EvaluationError("a comparison needs at least two runs")
    n_pairs = len(names) * (len(names) - 1) // 2
    ranx_names = [_RANX.get(m, m) for m in metrics]
    # What ranx.compare does, on the per-query scores of ranx_scores (see there why not
    # through ranx's Run): the same scores, the same tests with the same seed.
    scores = {n: ranx_scores(qrels, runs[n], ranx_names, mean=False) for n in names}
    with warnings.catch_warnings():
        # Per-query differences that are all equal make scipy warn (and answer nan): see below.
        warnings.simplefilter("ignore", RuntimeWarning)
        tests = compute_statistical_significance(
            model_names=names,
            metric_scores=scores,
            stat_test=stat_test,
            n_permutations=permutations,
            max_p=alpha / n_pairs,
        )
    means = {n: {m: float(scores[n][r].mean()) for m, r in zip(metrics, ranx_names, strict=True)}
             for n in names}
    pairs = []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            for m, r in zip(metrics, ranx_names, strict=True):
                p = float(tests[a, b][r]["p_value"])
                if math.isnan(p):
                    # The t-test is undefined when every query differs by the same amount:
                    # no difference at all (p = 1), or the same gain on every query (p = 0).
                    p = 1.0 if means[a][m] == means[b][m] else 0.0
                corrected = min(1.0, p * n_pairs)
                pairs.append(PairResult(a, b, m, means[a][m], means[b][m], p, corrected,
                                        corrected < alpha))
    return Comparison(tuple(names), tuple(metrics), means, tuple(pairs), stat_test, alpha,
                      len(qrels))


def describe(comp: Comparison) -> str:
    """One line: which test, how the p-values were corrected, what the marks mean."""
    n_pairs = len(comp.runs) * (len(comp.runs) - 1) // 2
    test = "Fisher's randomization" if comp.stat_test == "fisher" else "Student's paired t"
    return (f"{test} test over {comp.n_queries} queries; Bonferroni over {n_pairs} pair(s) per "
            f"metric, alpha {comp.alpha}; a letter marks a run significantly beaten, * a win")


def mean_rows(comp: Comparison) -> list[list[str]]:
    """Rows of the means table: each value followed by the letters of the runs it beats."""
    letters = {n: chr(ord("a") + i) for i, n in enumerate(comp.runs)}
    rows = [["", "run", *comp.metrics]]
    for name in comp.runs:
        cells = []
        for m in comp.metrics:
            beaten = sorted(
                letters[p.b if p.a == name else p.a]
                for p in comp.pairs
                if p.metric == m and p.winner == name
            )
            cells.append(f"{comp.means[name][m]:.3f}" + (f" >{''.join(beaten)}" if beaten else ""))
        rows.append([letters[name], name, *cells])
    return rows


def pair_rows(comp: Comparison) -> list[list[str]]:
    """Rows of the pairwise table: means, p-value, corrected p-value, verdict."""
    rows = [["A", "B", "metric", "A", "B", "p", "p x pairs", "result"]]
    for p in comp.pairs:
        verdict = f"{p.winner} wins *" if p.winner else "no significant difference"
        rows.append([p.a, p.b, p.metric, f"{p.mean_a:.3f}", f"{p.mean_b:.3f}",
                     _p(p.p_value), _p(p.p_corrected), verdict])
    return rows


def read_trec_runs(paths: Sequence[Path]) -> dict[str, Ranked]:
    """TREC run files (qid Q0 docno rank score tag) as runs, one per file and tag.

    A tag found in one file only names its run; a tag found in several is prefixed with its
    file's name. Scores follow the ranks, so the files' own tie order is kept.
    """
    by_file: list[tuple[Path, str, Ranked]] = []
    for path in paths:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise EvaluationError(f"cannot read run file {path}: {exc}") from exc
        tags: dict[str, Ranked] = {}
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            cols = line.split()
            try:
                qid, _, doc, rank, _, tag = cols
                position = int(rank)
            except ValueError as exc:
                raise EvaluationError(
                    f"{path}:{n}: not a TREC run line (qid Q0 docno rank score tag)"
                ) from exc
            tags.setdefault(tag, {}).setdefault(qid, {})[doc] = float(1_000_000 - position)
        if not tags:
            raise EvaluationError(f"run file {path} holds no lines")
        by_file += [(path, tag, ranked) for tag, ranked in tags.items()]
    counts: dict[str, int] = {}
    for _, tag, _ in by_file:
        counts[tag] = counts.get(tag, 0) + 1
    runs: dict[str, Ranked] = {}
    for path, tag, ranked in by_file:
        name = tag if counts[tag] == 1 else f"{path.stem}/{tag}"
        if name in runs:
            raise EvaluationError(f"two runs are both called {name!r}: rename a file")
        runs[name] = ranked
    return runs


def _p(value: float) -> str:
    return "<0.0001" if value < 0.0001 else f"{value:.4f}"
