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

import sys
from typing import Any

from answer_sweep import cell, parse  # this folder: the same arguments and cells

from advisor.config import Settings
from advisor.evals import crossval, fitting, training
from advisor.wiring import chat_service_for, configure_runtime


def setting(name: str, to: Any) -> Any:
    """Set one training setting; returns the value it had."""
    if name == "kind_c":
        before, fitting.KIND_C = fitting.KIND_C, to
        return before
    before = fitting.RANKER_PARAMS[name]
    fitting.RANKER_PARAMS[name] = to
    return before


def main(argv: list[str] | None = None) -> int:
    args, grid = parse(argv, __doc__.splitlines()[0],
                       lambda name: name == "kind_c" or name in fitting.RANKER_PARAMS,
                       "no training setting {name} (kind_c or one of RANKER_PARAMS)")
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
