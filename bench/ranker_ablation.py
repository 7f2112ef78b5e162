"""Feature ablation of the sentence ranker under cross-validation: for each feature group of
``advisor.answer.GROUPS`` (and for none), the group's columns are held at zero in training and
in answering, the pool is split into folds by document, a model is trained without each fold,
and the held-out folds are answered. One row per group: evidence in the lead, mean ± spread
over the folds, for single questions and for conversations, and the change from the full
model.

    python bench/ranker_ablation.py ../shared/bench/train_questions.jsonl \
        ../shared/bench/dev_questions.jsonl ../shared/bench/train_conversations.jsonl \
        ../shared/bench/dev_conversations.jsonl bench/paraphrases.jsonl \
        --fit ../shared/bench/dev_fit.jsonl --fit bench/fit_paraphrases.jsonl \
        --offtopic ../shared/bench/offtopic_dev.jsonl [--groups cosine,overlap]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from typing import Any

import numpy as np

from advisor.answer import FEATURES, GROUPS, Candidates
from advisor.config import Settings
from advisor.evals import crossval, training
from advisor.wiring import chat_service_for, configure_runtime

FULL_ROWS = Candidates.rows


def without(group: str | None) -> None:
    """Make every feature matrix hold the group's columns at zero ("a+b": both; None: none)."""
    columns = [FEATURES.index(n) for g in (group.split("+") if group else [])
               for n in GROUPS[g]]

    def rows(self: Candidates, kinds: Mapping[str, float]) -> np.ndarray:
        out = FULL_ROWS(self, kinds)
        out[:, columns] = 0.0
        return out

    Candidates.rows = rows  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    training.pool_arguments(parser)
    parser.add_argument("--cv", type=int, default=5, help="folds, grouped by document")
    parser.add_argument("--groups", help="comma-separated groups (default: all); a+b leaves "
                        "out both at once")
    args = parser.parse_args(argv)
    groups = args.groups.split(",") if args.groups else list(GROUPS)
    settings = Settings()
    configure_runtime(settings)
    pool = training.load_pool(args.cases, args.fit, args.offtopic)
    cases, fit, offtopic = pool.cases, pool.fit, pool.offtopic
    service = chat_service_for(settings, with_model=False)
    examples = training.collect(service, cases, fit, offtopic)
    print("| without | questions: evidence_in_lead | change | conversations | change |")
    print("|---|---|---|---|---|")
    full: dict[str, float] = {}
    for group in [None, *groups]:
        without(group)
        split = crossval.fold_models(service, cases, k=args.cv, fit=fit, examples=examples)
        out = crossval.cross_validate_answers(service, split)["groups"]
        cells: list[str] = []
        for name in (crossval.QUESTIONS, crossval.CONVERSATIONS):
            value: Any = out[name]["evidence_in_lead"]
            full.setdefault(name, value["mean"])
            change = value["mean"] - full[name]
            cells += [f"{value['mean']:.3f} ± {value['std']:.3f}",
                      f"{change:+.3f}" if group else "-"]
        print(f"| {group or '(nothing: the full model)'} | " + " | ".join(cells) + " |",
              flush=True)
    without(None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
