"""Cross-validated sweep of the answer model's training settings, one setting at a time around
the shipped values: the kind model's regularisation (``kind_c``, ``fitting.KIND_C``) and the
ranker's LightGBM settings (``fitting.RANKER_PARAMS``: ``n_estimators``, ``num_leaves``,
``learning_rate``, ...). The pool's examples are collected once; for each value the model is
trained without each fold (grouped by document) and the held-out folds are answered. One row
per value, the shipped one marked: evidence in the lead, mean ± spread over the folds, for
single questions and for conversations, and fit_hit@3. Every row is printed.

    python bench/model_sweep.py ../shared/bench/train_questions.jsonl \
        ../shared/bench/dev_questions.jsonl ../shared/bench/train_conversations.jsonl \
        ../shared/bench/dev_conversations.jsonl bench/paraphrases.jsonl \
        --fit ../shared/bench/dev_fit.jsonl --fit bench/fit_paraphrases.jsonl \
        --offtopic ../shared/bench/offtopic_dev.jsonl \
        --grid kind_c=1,3,10 --grid num_leaves=3,5,9 --grid n_estimators=150,300,600
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from advisor.config import Settings
from advisor.evals import crossval, fitting, training
from advisor.wiring import chat_service_for, configure_runtime


def value(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def cell(figures: dict[str, Any], group: str, name: str) -> str:
    found = figures.get(group, {}).get(name)
    return f"{found['mean']:.3f} ± {found['std']:.3f}" if found else "-"


def setting(name: str, to: Any) -> Any:
    """Set one training setting; returns the value it had."""
    if name == "kind_c":
        before, fitting.KIND_C = fitting.KIND_C, to
        return before
    before = fitting.RANKER_PARAMS[name]
    fitting.RANKER_PARAMS[name] = to
    return before


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    training.pool_arguments(parser)
    parser.add_argument("--cv", type=int, default=5, help="folds, grouped by document")
    parser.add_argument("--grid", action="append", default=[], help="name=v1,v2,...")
    args = parser.parse_args(argv)
    grid: dict[str, list[Any]] = {}
    for item in args.grid:
        name, _, values = item.partition("=")
        if name != "kind_c" and name not in fitting.RANKER_PARAMS:
            parser.error(f"no training setting {name} (kind_c or one of RANKER_PARAMS)")
        grid[name] = [value(v) for v in values.split(",")]
    settings = Settings()
    configure_runtime(settings)
    pool = training.load_pool(args.cases, args.fit, args.offtopic)
    service = chat_service_for(settings, with_model=False)
    examples = training.collect(service, pool.cases, pool.fit, pool.offtopic)
    head = ["setting", "value", "questions lead", "conversations lead", "fit@3"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for name, values in grid.items():
        shipped = fitting.KIND_C if name == "kind_c" else fitting.RANKER_PARAMS[name]
        for v in values:
            before = setting(name, v)
            try:
                split = crossval.fold_models(service, pool.cases, k=args.cv, fit=pool.fit,
                                             examples=examples)
                out = crossval.cross_validate_answers(service, split)["groups"]
            finally:
                setting(name, before)
            mark = " (shipped)" if v == shipped else ""
            print(f"| {name} | {v}{mark} | " + " | ".join([
                cell(out, crossval.QUESTIONS, "evidence_in_lead"),
                cell(out, crossval.CONVERSATIONS, "evidence_in_lead"),
                cell(out, crossval.QUESTIONS, "fit_hit@3")]) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
