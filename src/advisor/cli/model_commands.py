"""The commands of the learned answer model: ``advisor train-ranker`` (rebuild the committed
model file from case files) and ``advisor eval-answers --cv K`` (cross-validated answer
figures)."""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from advisor.errors import AdvisorError
from advisor.evals import say

Handler = Callable[[argparse.Namespace], int]
#: The model file ``train-ranker`` writes by default: the one the package ships.
PACKAGE_MODEL = Path(__file__).resolve().parents[1] / "answer" / "model.json"


def _service(args: argparse.Namespace, *, with_model: bool) -> Any:
    from advisor.cli.eval_commands import eval_settings
    from advisor.wiring import build, chat_service_for

    settings = eval_settings(args)
    build(settings, on_stage=None if getattr(args, "json", False) else say)
    return chat_service_for(settings, with_model=with_model)


def cmd_train_ranker(args: argparse.Namespace) -> int:
    import lightgbm
    import sklearn

    from advisor.answer import FEATURES, GROUPS
    from advisor.answer.model import dump_model
    from advisor.evals import fitting, training
    from advisor.evals.manifest import file_sha256

    started = time.perf_counter()
    pool = training.load_pool(args.cases, args.fit, args.offtopic)
    cases, fit, offtopic = pool.cases, pool.fit, pool.offtopic
    if not cases:
        raise AdvisorError("give the case files to learn from")
    service = _service(args, with_model=False)
    examples = training.collect(service, cases, fit, offtopic)
    say(f"{len(examples)} examples from {len(args.cases) + len(args.fit) + len(args.offtopic)} "
        f"file(s) in {time.perf_counter() - started:.0f} s")
    embedding = args.kinds_from == "words+embedding"
    figures = fitting.cross_validate(examples, args.cv, embedding=embedding) if args.cv else {}
    files = [*args.cases, *args.fit, *args.offtopic]
    manifest = {
        "command": "advisor train-ranker " + " ".join(_shown(p) for p in files),
        "cases": [{"path": _shown(p), "sha256": file_sha256(p)} for p in files],
        "counts": training.counts(examples),
        "features": {group: list(names) for group, names in GROUPS.items()},
        "ranker": {k: v for k, v in fitting.RANKER_PARAMS.items() if k != "verbose"},
        "kind_c": fitting.KIND_C,
        "kinds_from": args.kinds_from,
        "embedder": service.retriever.index.manifest.get("embedder", ""),
        "cv": {"folds": args.cv, "grouped_by": "document", **figures},
        "versions": {"lightgbm": lightgbm.__version__, "scikit-learn": sklearn.__version__,
                     "python": platform.python_version()},
    }
    model = fitting.train(examples, manifest, embedding=embedding)
    assert model.ranker.features == FEATURES
    dump_model(model, args.out)
    say(f"answer model written to {args.out} in {time.perf_counter() - started:.0f} s")
    if figures:
        for name, value in figures.items():
            say(f"  cv {name:>20}: {value['mean']:.3f} ± {value['std']:.3f}")
    return 0


def cmd_cross_validate(args: argparse.Namespace) -> int:
    """eval-answers --cv K: answer figures of each held-out fold, their mean and spread."""
    from advisor.evals import crossval, training

    pool = training.load_pool([args.cases, *args.pool], [args.fit] if args.fit else [],
                              [args.offtopic] if args.offtopic else [])
    cases, fit, offtopic = pool.cases, pool.fit, pool.offtopic
    service = _service(args, with_model=args.mode != "extractive")

    def progress(fold: int, figures: dict[str, Any]) -> None:
        if not args.json:
            shown = {g: f.get("evidence_in_lead") for g, f in figures.items()}
            say(f"fold {fold + 1}/{args.cv}: evidence_in_lead {shown}")

    results: list[Any] = []
    split = crossval.fold_models(service, cases, k=args.cv, fit=fit, offtopic=offtopic)
    out = crossval.cross_validate_answers(service, split, mode=args.mode, on_fold=progress,
                                 on_result=results.append)
    if args.cases_out:
        from advisor.evals import write_case_report

        write_case_report(results, args.cases_out)
    out["files"] = [_shown(p) for p in [args.cases, *args.pool]]
    if args.json:
        print(json.dumps(out))
        return 0
    for group, figures in out["groups"].items():
        print(f"{group} (mean ± sd over {args.cv} folds grouped by document)")
        for name, value in figures.items():
            print(f"{name:>22}: {value['mean']:.4f} ± {value['std']:.4f}")
    return 0


def _shown(path: Path) -> str:
    """A path relative to the working folder (the manifest is committed: no machine's root)."""
    return os.path.relpath(path.resolve(), Path.cwd().resolve())


def add_parsers(add: Callable[[str, Handler, str], argparse.ArgumentParser]) -> None:
    """The parser of ``train-ranker``."""
    p = add("train-ranker", cmd_train_ranker,
            "rebuild the answer model (kinds, follow-ups, sentence ranker) from case files")
    from advisor.evals import training

    training.pool_arguments(p)
    p.add_argument("--out", type=Path, default=PACKAGE_MODEL, help="default: the package's")
    p.add_argument("--cv", type=int, default=5,
                   help="folds of the cross-validated figures in the manifest (0: none)")
    p.add_argument("--kinds-from", choices=["words+embedding", "words"],
                   default="words+embedding",
                   help="what the kind model reads of a question (words alone keeps the file "
                   "small with an embedder of many dimensions)")
    p.add_argument("--corpus", type=Path, help="folder of Markdown documents")
