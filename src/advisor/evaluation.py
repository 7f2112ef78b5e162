"""Retrieval benchmark: cases -> ranked chunks -> metrics (computed with ranx), reports."""

from __future__ import annotations

import json
import re
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from advisor.errors import EvaluationError
from advisor.retriever import Mode, Retriever
from advisor.types import Chunk, Hit

METRIC_KEYS = ("hit@1", "hit@3", "hit@5", "hit@10", "mrr@10", "ndcg@10", "doc_hit@5")
_RANX = {
    "hit@1": "hit_rate@1",
    "hit@3": "hit_rate@3",
    "hit@5": "hit_rate@5",
    "hit@10": "hit_rate@10",
    "mrr@10": "mrr@10",
    "ndcg@10": "ndcg@10",
}
DEPTH = 50  # how deep we look for the evidence when reporting a miss
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Case:
    """One benchmark question (or conversation: earlier ``history`` turns, then ``question``)."""

    case_id: str
    question: str
    history: tuple[str, ...]
    doc: str
    evidence: tuple[str, ...]
    kind: str = ""


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


def fold(text: str) -> str:
    """Whitespace collapsed and case folded, for evidence matching."""
    return _SPACE.sub(" ", text).strip().casefold()


def load_cases(path: Path) -> list[Case]:
    """Read a JSONL case file (single questions and conversations with ``turns``)."""
    cases: list[Case] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvaluationError(f"cannot read cases from {path}: {exc}") from exc
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            turns = raw.get("turns") or [raw["question"]]
            if not all(isinstance(t, str) and t.strip() for t in turns):
                raise ValueError("empty turn")
            evidence = raw["evidence"]
            if isinstance(evidence, str):
                evidence = [evidence]
            if not evidence:
                raise ValueError("empty evidence")
            cases.append(
                Case(
                    str(raw["id"]),
                    turns[-1],
                    tuple(turns[:-1]),
                    str(raw["doc"]),
                    tuple(evidence),
                    str(raw.get("kind") or ""),
                )
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise EvaluationError(f"{path}:{n}: not a valid case ({exc})") from exc
    if not cases:
        raise EvaluationError(f"{path} holds no cases")
    return cases


def doc_id_of(doc: str) -> str:
    """The doc id of a case's ``doc`` field (a file name)."""
    return Path(doc).stem


def is_relevant(chunk: Chunk, case: Case) -> bool:
    """A chunk of the case's document that contains one of its evidence strings."""
    if chunk.doc_id != doc_id_of(case.doc):
        return False
    text = fold(chunk.text)
    return any(fold(e) in text for e in case.evidence)


def run_cases(retriever: Retriever, cases: Sequence[Case], mode: Mode) -> RunResult:
    """Search every case with one retriever mode."""
    results = []
    for case in cases:
        started = time.perf_counter()
        query, hits = retriever.search(case.question, k=DEPTH, history=case.history, mode=mode)
        latency = (time.perf_counter() - started) * 1000
        first = next((h.rank for h in hits if is_relevant(h.chunk, case)), None)
        results.append(CaseResult(case, hits, first, latency, query.text))
    run = RunResult(mode, results)
    run.metrics = compute_metrics(run, retriever.index.chunks)
    return run


def _ranx_inputs(run: RunResult, chunks: Sequence[Chunk]) -> tuple[Any, Any, Any, Any]:
    from ranx import Qrels, Run

    qrels: dict[str, dict[str, int]] = {}
    ranked: dict[str, dict[str, float]] = {}
    doc_qrels: dict[str, dict[str, int]] = {}
    doc_ranked: dict[str, dict[str, float]] = {}
    for r in run.results:
        cid = r.case.case_id
        relevant = {c.chunk_id: 1 for c in chunks if is_relevant(c, r.case)}
        # A case whose evidence no chunk holds still counts (as a miss) under a placeholder.
        qrels[cid] = relevant or {"__no_relevant_chunk__": 1}
        top = r.hits[:10]
        # Scores from ranks keep our order exactly, whatever the ties in raw scores.
        ranked[cid] = {h.chunk.chunk_id: float(len(top) - i) for i, h in enumerate(top)} or {
            "__empty__": 0.0
        }
        doc_qrels[cid] = {doc_id_of(r.case.doc): 1}
        docs: dict[str, float] = {}
        for i, h in enumerate(r.hits[:5]):
            docs.setdefault(h.chunk.doc_id, float(5 - i))
        doc_ranked[cid] = docs or {"__empty__": 0.0}
    return Qrels(qrels), Run(ranked, name=run.retriever), Qrels(doc_qrels), Run(doc_ranked)


def compute_metrics(run: RunResult, chunks: Sequence[Chunk]) -> dict[str, float]:
    """The report's metrics for one run, through ranx, plus latency percentiles."""
    from ranx import evaluate

    qrels, ranked, doc_qrels, doc_ranked = _ranx_inputs(run, chunks)
    scores = evaluate(qrels, ranked, list(_RANX.values()), make_comparable=True)
    doc_hit = evaluate(doc_qrels, doc_ranked, "hit_rate@5", make_comparable=True)
    latencies = sorted(r.latency_ms for r in run.results)
    out: dict[str, float] = {"n": float(len(run.results))}
    out.update({key: round(float(scores[name]), 4) for key, name in _RANX.items()})
    out["doc_hit@5"] = round(float(doc_hit), 4)
    out["latency_ms_p50"] = round(statistics.median(latencies), 2)
    out["latency_ms_p95"] = round(_percentile(latencies, 95), 2)
    return out


def hit_curve(run: RunResult, chunks: Sequence[Chunk], depth: int = 10) -> list[float]:
    """Hit@k for k = 1..depth, through ranx."""
    from ranx import evaluate

    qrels, ranked, _, _ = _ranx_inputs(run, chunks)
    scores = evaluate(
        qrels, ranked, [f"hit_rate@{k}" for k in range(1, depth + 1)], make_comparable=True
    )
    return [float(scores[f"hit_rate@{k}"]) for k in range(1, depth + 1)]


def _percentile(sorted_values: Sequence[float], pct: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(pct / 100 * len(sorted_values) + 0.5) - 1))
    return float(sorted_values[index])


def summary(run: RunResult) -> dict[str, float | int]:
    """The JSON object ``advisor eval --json`` prints for one retriever."""
    keys = ("n", *METRIC_KEYS, "latency_ms_p50", "latency_ms_p95")
    return {k: (int(run.metrics[k]) if k == "n" else run.metrics[k]) for k in keys}


def write_trec_run(runs: Sequence[RunResult], path: Path) -> None:
    """A standard TREC run file (qid Q0 docno rank score tag), top 10 per case and retriever."""
    lines = []
    for run in runs:
        tag = f"advisor-{run.retriever}"
        for r in run.results:
            for h in r.hits[:10]:
                lines.append(f"{r.case.case_id} Q0 {h.chunk.chunk_id} {h.rank} {h.score:.6f} {tag}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def format_table(runs: Sequence[RunResult]) -> str:
    """A plain-text table of the metrics, one row per retriever."""
    head = ["retriever", "n", *METRIC_KEYS, "p50 ms", "p95 ms"]
    rows = [head]
    for run in runs:
        m = run.metrics
        rows.append(
            [
                run.retriever,
                str(int(m["n"])),
                *(f"{m[k]:.3f}" for k in METRIC_KEYS),
                f"{m['latency_ms_p50']:.1f}",
                f"{m['latency_ms_p95']:.1f}",
            ]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows)


def write_report(
    runs: Sequence[RunResult],
    chunks: Sequence[Chunk],
    folder: Path,
    *,
    title: str = "Retrieval report",
) -> Path:
    """report.md with metrics and per-case misses, and hit_at_k.png (Hit@k, k = 1..10)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6, 4))
    for run in runs:
        ax.plot(range(1, 11), hit_curve(run, chunks), marker="o", label=run.retriever)
    ax.set_xlabel("k")
    ax.set_ylabel("Hit@k")
    ax.set_ylim(0, 1.02)
    ax.set_xticks(range(1, 11))
    ax.grid(alpha=0.3)
    ax.legend()
    ax.set_title("Hit@k per retriever")
    fig.tight_layout()
    fig.savefig(folder / "hit_at_k.png", dpi=100)
    plt.close(fig)
    lines = [f"# {title}", "", "```", format_table(runs), "```", "", "![Hit@k](hit_at_k.png)", ""]
    for run in runs:
        misses = [r for r in run.results if r.first_relevant is None or r.first_relevant > 1]
        lines += [
            f"## {run.retriever}: {len(misses)} cases not at rank 1",
            "",
            "| case | evidence at rank | question | expected | got at rank 1 |",
            "|---|---|---|---|---|",
        ]
        for r in misses:
            rank = str(r.first_relevant) if r.first_relevant else f"not in top {DEPTH}"
            got = r.hits[0].chunk.heading if r.hits else "(nothing)"
            lines.append(
                f"| {r.case.case_id} | {rank} | {_cell(r.query)} | "
                f"{_cell(r.case.doc)} > {_cell(r.case.evidence[0][:60])} | {_cell(got)} |"
            )
        lines.append("")
    path = folder / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
