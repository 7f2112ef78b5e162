"""What ``advisor eval`` prints and writes: JSON or tables, significance, TREC runs, report.md;
and the comparison of saved runs (``--run A.trec --run B.trec``)."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from advisor.config import Settings
from advisor.evals.cases import Case
from advisor.evals.report import (
    format_comparison,
    format_table,
    markdown_table,
    write_report,
    write_trec_run,
)
from advisor.evals.retrieval import JUDGED_DEPTH, RunResult, ranked_lists, summary
from advisor.evals.significance import (
    COMPARE_KEYS,
    JUDGED_COMPARE_KEYS,
    Comparison,
    compare_runs,
    describe,
    mean_rows,
    pair_rows,
)


def say(message: str) -> None:
    """A progress or status line on stderr (stdout stays for results)."""
    print(message, file=sys.stderr, flush=True)


@dataclass
class Evaluation:
    """The runs of one embedder over the cases (or a BEIR folder), with what judged them."""

    settings: Settings
    runs: list[RunResult]
    cases: list[Case]
    qrels: dict[str, dict[str, int]]
    retriever: Any
    inputs: list[Path]
    encode: dict[str, float] = field(default_factory=dict)

    @property
    def embedder(self) -> str:
        """The name of the embedder."""
        return str(self.retriever.embedder.name)


def manifest_for(args: argparse.Namespace, ev: Evaluation) -> dict[str, Any]:
    """The run manifest of an evaluation."""
    from advisor.evals.manifest import run_manifest

    index = ev.retriever.index
    return run_manifest(ev.settings, argv=args.argv, inputs=ev.inputs,
                        index_manifest=index.manifest, index_path=index.path.resolve())


def encode_speed(evaluation: Evaluation, sample: int = 256) -> dict[str, float]:
    """Encode throughput on this index's first passages, and one query's encode time."""
    from advisor.corpus import search_text

    embedder = evaluation.retriever.embedder
    texts = [search_text(c) for c in evaluation.retriever.index.chunks[:sample]]
    embedder.embed(texts[:8])  # warm up
    started = time.perf_counter()
    embedder.embed(texts)
    seconds = time.perf_counter() - started
    times = []
    for case in evaluation.cases[:50]:
        t = time.perf_counter()
        embedder.embed_query(case.question)
        times.append((time.perf_counter() - t) * 1000)
    return {"passages_per_s": round(len(texts) / seconds, 1) if seconds else 0.0,
            "query_ms_p50": round(statistics.median(times), 2) if times else 0.0}


def comparison_of(args: argparse.Namespace, ev: Evaluation) -> Comparison | None:
    """The retrievers compared pairwise, when ``--compare`` asks for it."""
    if not args.compare:
        return None
    depth = JUDGED_DEPTH if args.beir else 10
    keys = JUDGED_COMPARE_KEYS if args.beir else COMPARE_KEYS
    ranked = {run.retriever: ranked_lists(run, depth) for run in ev.runs}
    return compare_runs(ev.qrels, ranked, keys, stat_test=args.stat_test, alpha=args.alpha)


def _results_json(ev: Evaluation, comparison: Comparison | None,
                  manifest: dict[str, Any]) -> dict[str, Any]:
    objects = {}
    for run in ev.runs:
        obj = summary(run)
        if comparison is not None:
            obj["significance"] = comparison.as_json(run.retriever)
        obj["manifest"] = manifest
        objects[run.retriever] = obj
    return objects[ev.runs[0].retriever] if len(ev.runs) == 1 else objects


def report_evaluations(args: argparse.Namespace, evals: Sequence[Evaluation]) -> None:
    """Print the figures (JSON or tables) and write the files the options ask for."""
    main = evals[0]
    comparisons = [comparison_of(args, ev) for ev in evals]
    manifests = [manifest_for(args, ev) for ev in evals]
    depth = JUDGED_DEPTH if args.beir else 10
    if args.trec_run:
        write_trec_run(main.runs, args.trec_run, depth=depth)
    if args.report:
        source = args.beir.name if args.beir else args.cases.name
        path = write_report(main.runs, main.retriever.index.chunks, args.report,
                            title=f"Retrieval report: {source}", comparison=comparisons[0],
                            manifest=manifests[0])
        say(f"report written to {path}")
    if args.json:
        if len(evals) == 1:
            print(json.dumps(_results_json(main, comparisons[0], manifests[0])))
            return
        print(json.dumps({"embedders": [
            {"name": ev.embedder, "setting": ev.settings.embedder, "encode": ev.encode,
             "results": _results_json(ev, comp, man)}
            for ev, comp, man in zip(evals, comparisons, manifests, strict=True)
        ]}))
        return
    for ev, comp in zip(evals, comparisons, strict=True):
        if len(evals) > 1:
            print(f"\nembedder {ev.embedder} ({ev.settings.embedder}): "
                  f"{ev.encode['passages_per_s']} passages/s, "
                  f"one query {ev.encode['query_ms_p50']} ms (p50)")
        print(format_table(ev.runs))
        if comp is not None:
            print()
            print(format_comparison(comp))


def print_saved(args: argparse.Namespace, comp: Comparison, manifest: dict[str, Any]) -> None:
    """Saved runs compared: tables or JSON, and report.md when asked."""
    if args.report:
        args.report.mkdir(parents=True, exist_ok=True)
        lines = ["# Saved runs compared", "", describe(comp), "",
                 *markdown_table(mean_rows(comp)), "", *markdown_table(pair_rows(comp)), "",
                 "## Run manifest", "", "```json", json.dumps(manifest, indent=2), "```", ""]
        (args.report / "report.md").write_text("\n".join(lines), encoding="utf-8")
        say(f"report written to {args.report / 'report.md'}")
    if args.json:
        print(json.dumps({name: {**comp.means[name], "significance": comp.as_json(name),
                                 "manifest": manifest} for name in comp.runs}))
    else:
        print(format_comparison(comp))
