"""Cross-validated sweep of the composer's settings: the pool of case files is split into folds
by document, an answer model is trained without each fold (once per ``pool`` value, the only
setting its training data depends on), and every combination of the settings given answers
the held-out folds. One row per combination: evidence in the lead (first 300 characters) and
in the answer, mean ± spread over the folds, for single questions and for conversations; the
answer length p50; fit_hit@3. A sweep, not a best point: every row is printed.

    python bench/answer_sweep.py ../shared/bench/train_questions.jsonl \
        ../shared/bench/dev_questions.jsonl ../shared/bench/train_conversations.jsonl \
        ../shared/bench/dev_conversations.jsonl bench/paraphrases.jsonl \
        --fit ../shared/bench/dev_fit.jsonl --fit bench/fit_paraphrases.jsonl \
        --offtopic ../shared/bench/offtopic_dev.jsonl \
        --grid lead_sentences=1,2,3 --grid lead_chars=250,300,400
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from advisor.answer import ComposeSettings
from advisor.config import Settings
from advisor.evals import crossval, training
from advisor.wiring import chat_service_for, configure_runtime


def value(text: str) -> Any:
    if text in ("True", "False"):
        return text == "True"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def cell(figures: dict[str, Any], group: str, name: str) -> str:
    found = figures.get(group, {}).get(name)
    return f"{found['mean']:.3f} ± {found['std']:.3f}" if found else "-"


def parse(argv: list[str] | None, description: str, known: Callable[[str], bool],
          unknown: str) -> tuple[argparse.Namespace, dict[str, list[Any]]]:
    """A sweep's arguments: the pool, --cv and the --grid of settings that ``known`` accepts
    (``unknown``: the error for one it does not)."""
    parser = argparse.ArgumentParser(description=description)
    training.pool_arguments(parser)
    parser.add_argument("--cv", type=int, default=5, help="folds, grouped by document")
    parser.add_argument("--grid", action="append", default=[], help="name=v1,v2,...")
    args = parser.parse_args(argv)
    grid: dict[str, list[Any]] = {}
    for item in args.grid:
        name, _, values = item.partition("=")
        if not known(name):
            parser.error(unknown.format(name=name))
        grid[name] = [value(v) for v in values.split(",")]
    return args, grid


def main(argv: list[str] | None = None) -> int:
    args, grid = parse(argv, __doc__.splitlines()[0],
                       lambda name: name in ComposeSettings.__dataclass_fields__,
                       "no compose setting {name}")
    settings = Settings()
    configure_runtime(settings)
    pool = training.load_pool(args.cases, args.fit, args.offtopic)
    cases, fit, offtopic = pool.cases, pool.fit, pool.offtopic
    base = chat_service_for(settings, with_model=False)
    names = list(grid)
    head = [*names, "questions lead", "answer", "conversations lead", "answer", "chars p50",
            "fit@3"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    splits: dict[int, Any] = {}
    for combo in itertools.product(*grid.values()):
        compose: ComposeSettings = replace(base.composer.settings, **dict(zip(names, combo,
                                                                              strict=True)))
        service = base.replaced(compose=compose)
        if compose.pool not in splits:
            splits[compose.pool] = crossval.fold_models(service, cases, k=args.cv, fit=fit,
                                               offtopic=offtopic)
        out = crossval.cross_validate_answers(service, splits[compose.pool])["groups"]
        chars = out.get(crossval.QUESTIONS, {}).get("answer_chars_p50", {}).get("mean", 0)
        row = [*map(str, combo), cell(out, crossval.QUESTIONS, "evidence_in_lead"),
               cell(out, crossval.QUESTIONS, "evidence_in_answer"),
               cell(out, crossval.CONVERSATIONS, "evidence_in_lead"),
               cell(out, crossval.CONVERSATIONS, "evidence_in_answer"), f"{chars:.0f}",
               cell(out, crossval.QUESTIONS, "fit_hit@3")]
        print("| " + " | ".join(row) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
