"""Retrieval benchmark: cases -> ranked chunks -> metrics (computed with ranx), per kind.

Relevance comes from the evidence rule of ../shared/bench/README.md for this project's case
files, or from graded judgments (``RunResult.qrels``) for BEIR folders.
"""

from __future__ import annotations

import statistics
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from advisor.evals.cases import Case
from advisor.retrieval import Retriever
from advisor.text import fold
from advisor.types import Chunk, Hit

METRIC_KEYS = ("hit@1", "hit@3", "hit@5", "hit@10", "mrr@10", "ndcg@10", "doc_hit@5")
#: What a run judged by graded qrels (a BEIR folder) reports: no documents, deeper figures.
JUDGED_KEYS = ("hit@1", "hit@3", "hit@5", "hit@10", "mrr@10", "ndcg@10", "recall@100", "map@100")
_RANX = {
    "hit@1": "hit_rate@1",
    "hit@3": "hit_rate@3",
    "hit@5": "hit_rate@5",
    "hit@10": "hit_rate@10",
    "mrr@10": "mrr@10",
    "ndcg@10": "ndcg@10",
    "recall@100": "recall@100",
    "map@100": "map@100",
}
DEPTH = 50  # how deep we look for the evidence when reporting a miss
JUDGED_DEPTH = 100  # runs judged by qrels are cut here (Recall@100, MAP@100)
_NO_RELEVANT = "__no_relevant_chunk__"
_EMPTY = "__empty__"  # the one passage of a ranking that found nothing: never relevant


@dataclass
class CaseResult:
    """Where a case's evidence was ranked, and how long retrieval took."""

    case: Case
    hits: list[Hit]
    first_relevant: int | None
    latency_ms: float
    query: str


@dataclass
class RunResult:
    """All cases of one retriever, with their metrics."""

    retriever: str
    results: list[CaseResult]
    metrics: dict[str, float] = field(default_factory=dict)
    #: Graded judgments per case (BEIR qrels); None: the evidence rule over the index chunks.
    qrels: dict[str, dict[str, int]] | None = None
    by_kind: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def keys(self) -> tuple[str, ...]:
        """The metric keys this run reports."""
        return METRIC_KEYS if self.qrels is None else JUDGED_KEYS


def doc_id_of(doc: str) -> str:
    """The doc id of a case's ``doc`` field (a file name)."""
    return Path(doc).stem


def is_relevant(chunk: Chunk, case: Case) -> bool:
    """A chunk of the case's document that contains one of its evidence strings."""
    if chunk.doc_id != doc_id_of(case.doc):
        return False
    text = fold(chunk.text)
    return any(fold(e) in text for e in case.evidence)


def run_cases(retriever: Retriever, cases: Sequence[Case], mode: str) -> RunResult:
    """Search every case with one retriever mode."""
    results = []
    for case in cases:
        started = time.perf_counter()
        query, hits = retriever.search(case.question, k=DEPTH, history=case.history, mode=mode)
        latency = (time.perf_counter() - started) * 1000
        first = next((h.rank for h in hits if is_relevant(h.chunk, case)), None)
        results.append(CaseResult(case, hits, first, latency, query.text))
    run = RunResult(mode, results)
    finish(run, retriever.index.chunks)
    return run


def run_judged(
    retriever: Retriever,
    queries: Sequence[Case],
    qrels: dict[str, dict[str, int]],
    mode: str,
) -> RunResult:
    """Search standalone queries (no history) judged by graded qrels, 100 deep."""
    results = []
    for case in queries:
        judged = qrels.get(case.case_id, {})
        started = time.perf_counter()
        query, hits = retriever.search(case.question, k=JUDGED_DEPTH, mode=mode)
        latency = (time.perf_counter() - started) * 1000
        first = next((h.rank for h in hits if judged.get(h.chunk.chunk_id, 0) > 0), None)
        results.append(CaseResult(case, hits, first, latency, query.text))
    run = RunResult(mode, results, qrels={c.case_id: qrels.get(c.case_id, {}) for c in queries})
    finish(run, ())
    return run


def finish(run: RunResult, chunks: Sequence[Chunk]) -> None:
    """Fill a run's metrics, overall and per kind of case."""
    run.metrics = compute_metrics(run, chunks)
    groups: dict[str, list[CaseResult]] = {}
    for r in run.results:
        groups.setdefault(r.case.group, []).append(r)
    run.by_kind = {
        kind: compute_metrics(RunResult(run.retriever, part, qrels=run.qrels), chunks)
        for kind, part in sorted(groups.items())
    }


def evidence_qrels(cases: Sequence[Case], chunks: Sequence[Chunk]) -> dict[str, dict[str, int]]:
    """The evidence rule as judgments: every chunk of the case's document holding its evidence.

    A case whose evidence no chunk holds still counts (as a miss) under a placeholder.
    """
    out: dict[str, dict[str, int]] = {}
    for case in cases:
        relevant = {c.chunk_id: 1 for c in chunks if is_relevant(c, case)}
        out[case.case_id] = relevant or {_NO_RELEVANT: 1}
    return out


def ranked_lists(run: RunResult, depth: int) -> dict[str, dict[str, float]]:
    """Each case's top ``depth`` chunk ids, scored by rank so ties keep our order exactly."""
    ranked: dict[str, dict[str, float]] = {}
    for r in run.results:
        top = r.hits[:depth]
        ranked[r.case.case_id] = {h.chunk.chunk_id: float(len(top) - i) for i, h in enumerate(top)}
    return ranked


def ranx_scores(
    qrels: Mapping[str, Mapping[str, int]],
    ranked: Mapping[str, Mapping[str, float]],
    metrics: Sequence[str],
    *,
    mean: bool = True,
) -> dict[str, Any]:
    """ranx metrics (ranx names) of a ranking against graded judgments: the mean of each, or
    with ``mean=False`` its per-query scores in the order of the sorted query ids.

    Only the judged queries count; one the ranking lacks ranks nothing. Plain dicts go to
    ranx, which turns them into the arrays its metrics take. Its ``Qrels`` and ``Run`` would
    hold numba typed dicts, and numba compiles each Python-side typed-dict operation afresh
    in every process: 5-15 s before the first figure of each ``advisor eval``, where the metric
    kernels themselves load from numba's on-disk cache.
    """
    from ranx import evaluate

    ids = sorted(qrels)
    # ranx pairs the two dicts' values in order: both are built over the same sorted ids.
    judged = {q: dict(qrels[q]) or {_NO_RELEVANT: 0} for q in ids}
    run = {q: dict(ranked.get(q) or {}) or {_EMPTY: 0.0} for q in ids}
    with warnings.catch_warnings():
        # ranx's compiled sort notes an integer cast it does safely; not ours to show.
        warnings.filterwarnings("ignore", message="unsafe cast")
        # Never one metric alone: ranx answers it bare, and looks it up under a wrong key
        # when not averaged (KeyError 'hit_rate'). Asked twice, it comes back in the dict.
        scores = evaluate(judged, run, [*metrics, *metrics[:1]], return_mean=mean)
    return {m: scores[m] for m in metrics}


def ranx_pair(
    run: RunResult, chunks: Sequence[Chunk]
) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, float]]]:
    """The run's judgments and ranking, for ``ranx_scores``."""
    if run.qrels is None:
        qrels = evidence_qrels([r.case for r in run.results], chunks)
        depth = 10
    else:
        # A query without any relevant passage cannot be scored: it counts as a miss.
        qrels = {q: {d: g for d, g in j.items() if g > 0} or {_NO_RELEVANT: 1}
                 for q, j in run.qrels.items()}
        depth = JUDGED_DEPTH
    return qrels, ranked_lists(run, depth)


def _doc_pair(run: RunResult) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, float]]]:
    doc_qrels: dict[str, dict[str, int]] = {}
    doc_ranked: dict[str, dict[str, float]] = {}
    for r in run.results:
        cid = r.case.case_id
        doc_qrels[cid] = {doc_id_of(r.case.doc): 1}
        docs: dict[str, float] = {}
        for i, h in enumerate(r.hits[:5]):
            docs.setdefault(h.chunk.doc_id, float(5 - i))
        doc_ranked[cid] = docs
    return doc_qrels, doc_ranked


def compute_metrics(run: RunResult, chunks: Sequence[Chunk] = ()) -> dict[str, float]:
    """The report's metrics for one run, through ranx, plus latency percentiles."""
    qrels, ranked = ranx_pair(run, chunks)
    names = [_RANX[k] for k in run.keys if k in _RANX]
    scores = ranx_scores(qrels, ranked, names)
    latencies = sorted(r.latency_ms for r in run.results)
    out: dict[str, float] = {"n": float(len(run.results))}
    out.update({k: round(float(scores[_RANX[k]]), 4) for k in run.keys if k in _RANX})
    if run.qrels is None:
        doc_hit = ranx_scores(*_doc_pair(run), ["hit_rate@5"])["hit_rate@5"]
        out["doc_hit@5"] = round(float(doc_hit), 4)
    out["latency_ms_p50"] = round(statistics.median(latencies), 2) if latencies else 0.0
    out["latency_ms_p95"] = round(_percentile(latencies, 95), 2)
    return out


def hit_curve(run: RunResult, chunks: Sequence[Chunk] = (), depth: int = 10) -> list[float]:
    """Hit@k for k = 1..depth, through ranx."""
    names = [f"hit_rate@{k}" for k in range(1, depth + 1)]
    scores = ranx_scores(*ranx_pair(run, chunks), names)
    return [float(scores[n]) for n in names]


def _percentile(sorted_values: Sequence[float], pct: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(pct / 100 * len(sorted_values) + 0.5) - 1))
    return float(sorted_values[index])


def _figures(metrics: dict[str, float], keys: Sequence[str]) -> dict[str, Any]:
    return {k: (int(metrics[k]) if k == "n" else metrics[k]) for k in keys}


def summary(run: RunResult) -> dict[str, Any]:
    """The JSON object ``advisor eval --json`` prints for one retriever: the figures, then
    ``by_kind`` (the same figures for each kind of case)."""
    keys = ("n", *run.keys, "latency_ms_p50", "latency_ms_p95")
    out = _figures(run.metrics, keys)
    if run.by_kind:
        out["by_kind"] = {kind: _figures(m, keys) for kind, m in run.by_kind.items()}
    return out
