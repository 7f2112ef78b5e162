"""Offline replay of the composer: each benchmark case is retrieved once, then its answer is
composed under every combination of the settings given (no model), and each combination's
figures are printed as one row of a table per case file: evidence in the lead (first 300
characters) and in the answer, answer length p50/p90, and fit_hit@3 for fit cases.

    python bench/answer_sweep.py ../shared/bench/dev_questions.jsonl bench/paraphrases.jsonl \
        ../shared/bench/dev_conversations.jsonl --fit ../shared/bench/dev_fit.jsonl \
        --grid heading_weight=0,0.15,0.3,0.5 --grid rank_weight=0,0.05,0.1
"""

from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from advisor.answer import Composer, ComposeSettings
from advisor.config import Settings
from advisor.evals import contains_evidence, lead_text, load_cases, load_fit
from advisor.wiring import chat_service_for


def value(text: str) -> Any:
    if text in ("True", "False"):
        return text == "True"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", type=Path, nargs="+", help="case files, one table row each")
    parser.add_argument("--fit", type=Path, help="fit cases (with acceptable)")
    parser.add_argument("--grid", action="append", default=[], help="name=v1,v2,...")
    parser.add_argument("--misses", action="store_true",
                        help="list each row's cases without the evidence in the lead (and answer)")
    args = parser.parse_args(argv)
    grid = {}
    for item in args.grid:
        name, _, values = item.partition("=")
        if name not in ComposeSettings.__dataclass_fields__:
            parser.error(f"no compose setting {name}")
        grid[name] = [value(v) for v in values.split(",")]
    service = chat_service_for(Settings(), with_model=False)
    retriever = service.retriever
    fit = load_fit(args.fit) if args.fit else []
    replays = [
        (path.stem, [(c, *retriever.search(c.question, k=service.settings.top_k,
                                           history=c.history)) for c in load_cases(path)])
        for path in args.cases
    ]
    fit_replay = [(f, *retriever.search(f.question, k=service.settings.top_k)) for f in fit]
    names = list(grid)
    head = [*names, "cases", "in lead", "in answer", "chars p50", "p90", "fit@3"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    base = service.composer.settings
    for combo in itertools.product(*grid.values()):
        settings: ComposeSettings = replace(base, **dict(zip(names, combo, strict=True)))
        composer = Composer(retriever=retriever, prompts=service.prompts, settings=settings)
        fit_hits = 0
        for f, query, hits in fit_replay:
            comp = composer.compose(query, hits)
            fit_hits += bool(set(comp.careers[:3]) & set(f.acceptable))
        for name, replay in replays:
            lead_hits, answer_hits, chars, misses = 0, 0, [], []
            for case, query, hits in replay:
                comp = composer.compose(query, hits)
                text = service.prompts.render("lead.j2", preface=comp.preface,
                                              quotes=comp.lead, listed=comp.listed)
                in_lead = contains_evidence(lead_text(text), case.evidence)
                in_answer = contains_evidence(text, case.evidence)
                lead_hits += in_lead
                answer_hits += in_answer
                chars.append(len(text))
                if not in_lead:
                    misses.append(case.case_id + ("" if in_answer else "*"))
            n = len(replay)
            row = [*map(str, combo), name, f"{lead_hits / n:.3f}", f"{answer_hits / n:.3f}",
                   f"{np.percentile(chars, 50):.0f}", f"{np.percentile(chars, 90):.0f}",
                   f"{fit_hits / len(fit_replay):.3f}" if fit_replay else "-"]
            print("| " + " | ".join(row) + " |", flush=True)
            if args.misses:
                print(f"   misses ({name}; * not in the answer either):", " ".join(misses),
                      file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
