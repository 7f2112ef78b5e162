"""What ``advisor eval`` writes: tables, TREC run files, report.md with its plots."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from advisor.evals.retrieval import DEPTH, JUDGED_DEPTH, METRIC_KEYS, RunResult, hit_curve
from advisor.evals.significance import Comparison, describe, mean_rows, pair_rows
from advisor.types import Chunk

#: The figures the per-kind plot shows.
KIND_PLOT_KEYS = ("hit@1", "hit@5", "mrr@10")


def write_trec_run(runs: Sequence[RunResult], path: Path, *, depth: int = 10) -> None:
    """A standard TREC run file (qid Q0 docno rank score tag), top ``depth`` per case."""
    lines = []
    for run in runs:
        tag = f"advisor-{run.retriever}"
        for r in run.results:
            for h in r.hits[:depth]:
                lines.append(f"{r.case.case_id} Q0 {h.chunk.chunk_id} {h.rank} {h.score:.6f} {tag}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def text_table(rows: Sequence[Sequence[str]]) -> str:
    """Rows of cells as right-aligned plain-text columns."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows)


def markdown_table(rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows of cells as a Markdown table (the first row is the header)."""
    out = ["| " + " | ".join(_cell(c) for c in rows[0]) + " |",
           "|" + "---|" * len(rows[0])]
    out += ["| " + " | ".join(_cell(c) for c in r) + " |" for r in rows[1:]]
    return out


def metric_rows(runs: Sequence[RunResult]) -> list[list[str]]:
    """Header and one row per retriever: n, the figures, latency percentiles."""
    keys = runs[0].keys if runs else METRIC_KEYS
    rows = [["retriever", "n", *keys, "p50 ms", "p95 ms"]]
    for run in runs:
        m = run.metrics
        rows.append([run.retriever, str(int(m["n"])), *(f"{m[k]:.3f}" for k in keys),
                     f"{m['latency_ms_p50']:.1f}", f"{m['latency_ms_p95']:.1f}"])
    return rows


def kind_rows(runs: Sequence[RunResult]) -> list[list[str]]:
    """Header and one row per kind of case and retriever."""
    keys = runs[0].keys if runs else METRIC_KEYS
    rows = [["kind", "retriever", "n", *keys]]
    kinds = sorted({k for run in runs for k in run.by_kind})
    for kind in kinds:
        for run in runs:
            m = run.by_kind.get(kind)
            if m:
                rows.append([kind, run.retriever, str(int(m["n"])),
                             *(f"{m[k]:.3f}" for k in keys)])
    return rows


def format_table(runs: Sequence[RunResult]) -> str:
    """A plain-text table of the metrics, one row per retriever."""
    return text_table(metric_rows(runs))


def format_comparison(comp: Comparison) -> str:
    """The significance tables for a terminal."""
    return "\n".join([describe(comp), "", text_table(mean_rows(comp)), "",
                      text_table(pair_rows(comp))])


def _plot_hits(runs: Sequence[RunResult], chunks: Sequence[Chunk], file: Path) -> None:
    import matplotlib.pyplot as plt

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
    fig.savefig(file, dpi=100)
    plt.close(fig)


def _plot_kinds(runs: Sequence[RunResult], file: Path) -> None:
    import matplotlib.pyplot as plt

    kinds = sorted({k for run in runs for k in run.by_kind})
    fig, axes = plt.subplots(1, len(KIND_PLOT_KEYS), figsize=(4 * len(KIND_PLOT_KEYS), 4),
                             sharey=True)
    width = 0.8 / max(1, len(runs))
    for ax, key in zip(axes, KIND_PLOT_KEYS, strict=True):
        for i, run in enumerate(runs):
            values = [run.by_kind.get(k, {}).get(key, 0.0) for k in kinds]
            ax.bar([x + i * width for x in range(len(kinds))], values, width,
                   label=run.retriever)
        ax.set_xticks([x + width * (len(runs) - 1) / 2 for x in range(len(kinds))])
        ax.set_xticklabels(kinds, rotation=30, ha="right")
        ax.set_ylim(0, 1.02)
        ax.set_title(key)
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(fontsize="small")
    fig.suptitle("Per kind of question")
    fig.tight_layout()
    fig.savefig(file, dpi=100)
    plt.close(fig)


def write_report(
    runs: Sequence[RunResult],
    chunks: Sequence[Chunk],
    folder: Path,
    *,
    title: str = "Retrieval report",
    comparison: Comparison | None = None,
    manifest: dict[str, Any] | None = None,
) -> Path:
    """report.md: figures, Hit@k plot, per-kind table and plot, significance, per-case misses,
    and the run manifest."""
    import matplotlib

    matplotlib.use("Agg")
    folder.mkdir(parents=True, exist_ok=True)
    _plot_hits(runs, chunks, folder / "hit_at_k.png")
    lines = [f"# {title}", "", *markdown_table(metric_rows(runs)), "", "![Hit@k](hit_at_k.png)",
             ""]
    if any(run.by_kind for run in runs):
        _plot_kinds(runs, folder / "by_kind.png")
        lines += ["## By kind of question", "", *markdown_table(kind_rows(runs)), "",
                  "![Per kind](by_kind.png)", ""]
    if comparison is not None:
        lines += ["## Significance", "", describe(comparison), "",
                  *markdown_table(mean_rows(comparison)), "",
                  *markdown_table(pair_rows(comparison)), ""]
    for run in runs:
        lines += _misses(run)
    if manifest is not None:
        lines += ["## Run manifest", "", "```json", json.dumps(manifest, indent=2), "```", ""]
    path = folder / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _misses(run: RunResult) -> list[str]:
    misses = [r for r in run.results if r.first_relevant is None or r.first_relevant > 1]
    depth = DEPTH if run.qrels is None else JUDGED_DEPTH
    lines = [
        f"## {run.retriever}: {len(misses)} cases not at rank 1",
        "",
        "| case | evidence at rank | question | expected | got at rank 1 |",
        "|---|---|---|---|---|",
    ]
    for r in misses:
        rank = str(r.first_relevant) if r.first_relevant else f"not in top {depth}"
        got = r.hits[0].chunk.heading if r.hits else "(nothing)"
        if r.case.evidence:
            expected = f"{_cell(r.case.doc)} > {_cell(r.case.evidence[0][:60])}"
        else:
            judged = (run.qrels or {}).get(r.case.case_id, {})
            expected = _cell(", ".join(d for d, g in judged.items() if g > 0)[:80])
        lines.append(f"| {r.case.case_id} | {rank} | {_cell(r.query)} | {expected} | "
                     f"{_cell(got)} |")
    lines.append("")
    return lines


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
