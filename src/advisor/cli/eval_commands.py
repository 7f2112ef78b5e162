"""The evaluators' commands: ``advisor eval`` (case files or a BEIR folder, significance,
another embedder, baselines), ``advisor export-beir`` and ``advisor baseline``; the extras
``advisor eval-answers`` shares (run manifest, baseline, ``--diff``)."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from advisor.config import Settings, load_settings
from advisor.errors import EvaluationError
from advisor.evals import (
    Case,
    Evaluation,
    RunResult,
    encode_speed,
    load_cases,
    print_saved,
    report_evaluations,
    say,
)


def _digest(path: Path | str) -> str:
    return hashlib.sha256(str(Path(path).resolve()).encode()).hexdigest()[:10]


def eval_settings(args: argparse.Namespace, *, embedder: str | None = None) -> Settings:
    """Settings for a benchmark: another corpus, a BEIR folder or another embedder gets an
    index of its own, never the main one."""
    overrides: dict[str, Any] = {}
    for key in ("corpus", "index_dir"):
        if getattr(args, key, None):
            overrides[key] = getattr(args, key)
    settings = load_settings(**overrides)
    name = settings.index_name
    corpus = getattr(args, "corpus", None)
    if getattr(args, "beir", None):
        name = f"beir-{_digest(args.beir)}"
    elif corpus and Path(corpus).resolve() != Path(load_settings().corpus).resolve():
        name = f"eval-{_digest(corpus)}"
    update: dict[str, Any] = {"index_name": name}
    if embedder:
        update = {"embedder": embedder, "index_name": f"{name}-emb-{_digest(embedder)}"}
    return settings.model_copy(update=update)


def index_for(args: argparse.Namespace, settings: Settings, quiet: bool) -> None:
    """Build (or reuse) the index the benchmark searches."""
    from advisor.wiring import build, chunker_for, embedder_for

    stage = None if quiet else say
    if args.beir:
        from advisor.evals import CORPUS, build_beir_index

        built = build_beir_index(
            args.beir / CORPUS, embedder=embedder_for(settings), index_dir=settings.index_dir,
            name=settings.index_name, chunker=chunker_for(settings), ann=settings.ann,
            progress=sys.stderr.isatty(), on_stage=stage,
            # A text any index here already embedded (same embedder) is not embedded again.
            reuse=sorted(p for p in settings.index_dir.glob("[!.]*") if p.is_symlink()),
        )
        if not quiet:
            state = "reused" if built.up_to_date else f"built in {built.seconds:.1f} s"
            say(f"index {built.path}: {built.n_chunks} passages, {state}")
    else:
        build(settings, on_stage=stage)


def evaluate(args: argparse.Namespace, settings: Settings, modes: Sequence[str]) -> Evaluation:
    """Run every retriever mode over the case file or the BEIR folder."""
    from advisor.evals import evidence_qrels, run_cases, run_judged
    from advisor.wiring import retriever_for

    index_for(args, settings, args.json)
    retriever = retriever_for(settings)
    if args.beir:
        from advisor.evals import QUERIES, folder_files, judged_queries

        cases, qrels = judged_queries(args.beir, args.split)
        runs = [run_judged(retriever, cases, qrels, m) for m in modes]
        corpus, _, qrels_file = folder_files(args.beir, args.split)
        inputs = [corpus, args.beir / QUERIES, qrels_file]
    else:
        cases = load_cases(args.cases)
        runs = [run_cases(retriever, cases, m) for m in modes]
        qrels = evidence_qrels(cases, retriever.index.chunks)
        inputs = [args.cases]
    return Evaluation(settings, runs, cases, qrels, retriever, inputs)


def baseline_names(args: argparse.Namespace, runs: Sequence[RunResult]) -> dict[str, Any]:
    """Each run's figures under its baseline entry name ("eval dev_questions hybrid")."""
    from advisor.evals import summary

    source = f"beir:{args.beir.name}:{args.split}" if args.beir else args.cases.stem
    out = {}
    for run in runs:
        figures = summary(run)
        figures.pop("by_kind", None)
        out[f"eval {source} {run.retriever}"] = figures
    return out


def apply_baseline(args: argparse.Namespace, figures: dict[str, Any],
                   denominators: dict[str, int] | None = None) -> int:
    """Check against ``--baseline`` and record into ``--write-baseline``; 1 on a drop."""
    from advisor.evals import baseline

    code = 0
    if getattr(args, "write_baseline", None):
        argv = list(args.argv)
        if "--write-baseline" in argv:
            at = argv.index("--write-baseline")
            del argv[at : at + 2]
        baseline.record(args.write_baseline, figures, command=["advisor", *argv],
                        denominators=denominators)
        say(f"baseline {args.write_baseline}: recorded {', '.join(figures)}")
    if getattr(args, "baseline", None):
        rows = baseline.compare(args.baseline, figures)
        say(baseline.format_rows(rows))
        drops = [r for r in rows if r.dropped]
        if drops:
            say(f"{len(drops)} figure(s) dropped beyond their tolerance")
            code = 1
    return code


def cmd_eval(args: argparse.Namespace) -> int:
    """``advisor eval``: retrieval figures over case files or a BEIR folder."""
    from advisor.wiring import retriever_names

    if bool(args.cases) == bool(args.beir):
        raise EvaluationError("give a case file or --beir DIR (one of them)")
    if args.run:
        return compare_saved(args)
    modes = retriever_names() if args.retriever == "all" else [args.retriever]
    if args.compare and len(modes) < 2:
        raise EvaluationError("--compare needs --retriever all, or saved runs (--run A --run B)")
    if args.embedder:
        from advisor.embeddings import resolve_model

        resolve_model(args.embedder)  # a wrong folder fails before anything runs
    evals = [evaluate(args, eval_settings(args), modes)]
    if args.embedder:
        evals.append(evaluate(args, eval_settings(args, embedder=args.embedder), modes))
        for ev in evals:
            ev.encode = encode_speed(ev)
    report_evaluations(args, evals)
    return apply_baseline(args, baseline_names(args, evals[0].runs))


def compare_saved(args: argparse.Namespace) -> int:
    """Judge saved TREC runs against the cases (or the BEIR qrels) and test every pair."""
    from advisor.evals import (
        COMPARE_KEYS,
        JUDGED_COMPARE_KEYS,
        compare_runs,
        evidence_qrels,
        judged_queries,
        read_trec_runs,
        run_manifest,
    )
    from advisor.wiring import open_index

    settings = eval_settings(args)
    keys: tuple[str, ...] = COMPARE_KEYS
    if args.beir:
        _, qrels = judged_queries(args.beir, args.split)
        keys = JUDGED_COMPARE_KEYS
    else:
        index_for(args, settings, args.json)
        qrels = evidence_qrels(load_cases(args.cases), open_index(settings).chunks)
    comp = compare_runs(qrels, read_trec_runs(args.run), keys, stat_test=args.stat_test,
                        alpha=args.alpha)
    inputs = [*args.run, *([args.cases] if args.cases else [])]
    print_saved(args, comp, run_manifest(settings, argv=args.argv, inputs=inputs))
    return 0


def cmd_export_beir(args: argparse.Namespace) -> int:
    """``advisor export-beir``: the index chunks, cases and judgments as a BEIR folder."""
    from advisor.evals import export_beir
    from advisor.wiring import build, retriever_for

    settings = eval_settings(args)
    cases = [case for path in args.cases for case in load_cases(path)]
    build(settings, on_stage=say)
    retriever = retriever_for(settings)

    def standalone(case: Case) -> str:
        # A follow-up is searched together with the turn before it, career or not; a switch's
        # rewrite the retriever redoes itself from the question.
        query = retriever.condense(case.question, case.history)
        return case.question if query.switch else str(query.text)

    report = export_beir(
        args.out, chunks=retriever.index.chunks, cases=cases, standalone=standalone,
        urls={d.doc_id: d.url for d in retriever.index.documents.values()},
    )
    say(f"BEIR folder {args.out}: {report.passages} passages, {report.queries} queries, "
        f"{report.judgments} judgments")
    if report.unjudged:
        say(f"no chunk holds the evidence of {len(report.unjudged)} case(s), left out of the "
            f"qrels (the native eval counts them as misses): {', '.join(report.unjudged)}")
    return 0


def cmd_baseline(args: argparse.Namespace, run: Callable[[list[str]], int]) -> int:
    """``advisor baseline``: show the recorded figures, or run every command again."""
    from advisor.evals import baseline

    if args.refresh:
        return baseline.refresh(args.file, run, only=args.only or "")
    print(json.dumps(baseline.load(args.file), indent=2))
    return 0


def answers_extras(args: argparse.Namespace, summary: dict[str, Any], settings: Settings,
                   inputs: Sequence[Path], *, answerable: int,
                   offtopic: int) -> tuple[dict[str, Any], int]:
    """eval-answers: the summary with its run manifest, and the baseline check's exit code."""
    from advisor.evals import run_manifest

    name = f"eval-answers {args.cases.stem} {args.mode}"
    rates = ("evidence_in_answer", "citation_supports", "false_refusal_rate")
    counts = {**dict.fromkeys(rates, answerable), "refusal_rate_offtopic": offtopic}
    code = apply_baseline(args, {name: summary}, counts)
    try:
        link = settings.index_dir / settings.index_name
        index_manifest = json.loads((link / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        index_manifest = None
    manifest = run_manifest(settings, argv=args.argv, inputs=list(inputs),
                            index_manifest=index_manifest, index_path=link.resolve())
    return {**summary, "manifest": manifest}, code


def answers_diff(paths: Sequence[Path], as_json: bool) -> int:
    """eval-answers --diff A B: the cases that flipped, per figure."""
    from advisor.evals import diff, format_diff

    result = diff(paths[0], paths[1])
    print(json.dumps(result) if as_json else format_diff(result))
    return 0


def add_parsers(
    add: Callable[[str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser],
    run: Callable[[list[str]], int],
) -> None:
    """The parsers of ``eval``, ``export-beir`` and ``baseline``."""
    from advisor.wiring import retriever_names

    p = add("eval", cmd_eval, "measure retrieval on benchmark cases or a BEIR folder")
    p.add_argument("cases", type=Path, nargs="?", help="JSONL case file")
    p.add_argument("--beir", type=Path, help="BEIR folder (corpus.jsonl, queries.jsonl, qrels/)")
    p.add_argument("--split", default="test", help="qrels split of the BEIR folder")
    p.add_argument("--corpus", type=Path, help="folder of Markdown documents")
    p.add_argument("--retriever", choices=[*retriever_names(), "all"], default="hybrid")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--trec-run", type=Path, help="write a TREC run file")
    p.add_argument("--report", type=Path, help="folder for report.md and its plots")
    p.add_argument("--compare", action="store_true",
                   help="test every pair of retrievers (paired test, Bonferroni-corrected)")
    p.add_argument("--run", type=Path, action="append",
                   help="a saved TREC run file to compare instead (give two or more)")
    p.add_argument("--stat-test", choices=["fisher", "student"], default="fisher",
                   help="Fisher's randomization test or Student's paired t-test")
    p.add_argument("--alpha", type=float, default=0.05, help="significance level")
    p.add_argument("--embedder", help="a sentence-transformers folder to evaluate beside the "
                   "default embedder (quality and encode throughput)")
    add_baseline_options(p)

    p = add("export-beir", cmd_export_beir, "write the index chunks and cases as a BEIR folder")
    p.add_argument("out", type=Path, help="folder to write")
    p.add_argument("--cases", type=Path, action="append", required=True,
                   help="JSONL case file (repeat for several)")
    p.add_argument("--corpus", type=Path, help="folder of Markdown documents")

    p = add("baseline", lambda a: cmd_baseline(a, run),
            "show the committed baseline, or run every command it records again")
    p.add_argument("--file", type=Path, default=Path("evals/baseline.json"))
    p.add_argument("--refresh", action="store_true", help="run every recorded command again")
    p.add_argument("--only", help="refresh only the commands that contain this text")


def add_baseline_options(p: argparse.ArgumentParser) -> None:
    """``--baseline`` and ``--write-baseline``, for eval and eval-answers."""
    p.add_argument("--baseline", type=Path,
                   help="compare with this baseline file; exit 1 on a drop beyond tolerance")
    p.add_argument("--write-baseline", type=Path,
                   help="record this run's figures (and command) in this baseline file")
