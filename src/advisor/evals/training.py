"""The answer model's training data, from benchmark cases: each case is retrieved as the chat
service would (a conversation's last turn as a follow-up), and every candidate sentence of its
passages gets its signals (``answer.features``); a sentence that holds the case's evidence is a
positive. Its kinds, whether it follows a conversation and how well the documents cover it
alone come with it. ``fitting`` fits the three models to these examples.

Folds are grouped by document, so that no document's cases are both trained on and measured.
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from advisor.answer import Candidates, ChatService, section_kinds
from advisor.answer.model import FIT
from advisor.evals.answer_cases import (
    FitCase,
    contains_evidence,
    has_fit_cases,
    load_fit,
    load_offtopic,
)
from advisor.evals.cases import Case, load_cases
from advisor.text import fold


@dataclass(frozen=True)
class Example:
    """One case as training data."""

    case_id: str
    source: str  # the case file's name
    group: str  # the document its answer is in: the unit of a fold
    question: str
    history: tuple[str, ...]
    vector: Any  # the question's embedding
    kinds: frozenset[str]  # its kinds (empty for an off-topic question)
    before: str | None  # the turn before it (a follow-up's kinds may be that turn's)
    before_vector: Any
    follows: bool | None  # refers back to the conversation (None: names a career of its own)
    coverage: float  # its best cosine to the documents, alone
    candidates: Candidates | None = None  # the sentences of its passages (answerable cases)
    labels: Any = None  # 1 where a candidate holds the evidence


@dataclass(frozen=True)
class Pool:
    """The cases to learn from: (file name, case) pairs, fit cases, off-topic questions."""

    cases: list[tuple[str, Case]]
    fit: list[FitCase]
    offtopic: list[str]


def load_pool(paths: Sequence[Path], fit: Sequence[Path] = (),
              offtopic: Sequence[Path] = ()) -> Pool:
    """The case files (a file of fit cases among them is told apart), fit and off-topic files."""
    cases = [(p.stem, c) for p in paths if not has_fit_cases(p) for c in load_cases(p)]
    fits = [f for p in [*fit, *(p for p in paths if has_fit_cases(p))] for f in load_fit(p)]
    return Pool(cases, fits, [q for p in offtopic for q in load_offtopic(p)])


def pool_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments that name a pool: case files, ``--fit`` and ``--offtopic`` (repeatable)."""
    parser.add_argument("cases", type=Path, nargs="+",
                        help="JSONL case files (questions, conversations; fit cases are told "
                        "apart)")
    parser.add_argument("--fit", type=Path, action="append", default=[],
                        help='JSONL of "which career fits me" cases (repeatable)')
    parser.add_argument("--offtopic", type=Path, action="append", default=[],
                        help="JSONL of questions the documents miss (repeatable)")


def holds(sentence: str, evidence: Sequence[str]) -> bool:
    """A sentence holds the evidence: all of it, or (a long enough sentence) is part of it."""
    said = fold(sentence)
    for item in evidence:
        wanted = fold(item)
        if wanted in said or (len(said) >= 25 and said in wanted):
            return True
    return contains_evidence(sentence, evidence)


def collect(service: ChatService, cases: Sequence[tuple[str, Case]],
            fit: Sequence[FitCase] = (), offtopic: Sequence[str] = ()) -> list[Example]:
    """Every case (with the name of its file), fit case and off-topic question as an example."""
    composer = service.composer
    signals = composer.signals
    careers = service.retriever.careers

    def coverage(question: str) -> float:
        return service.retriever.similarity(question, signals.vector(question))

    out: list[Example] = []
    for source, case in cases:
        follows = bool(case.history) if not careers.find(case.question) else None
        query, hits = service.retrieve(case.question, case.history, follows=follows)
        named = list(dict.fromkeys(c.doc_id for c in query.careers))
        cands = signals.candidates(query, hits[: composer.settings.pool], named)
        labels = np.array([holds(q.text, case.evidence) for q in cands.quotes], dtype=int)
        kinds = set()
        for i in np.flatnonzero(labels):
            kinds |= section_kinds(cands.quotes[i])
        if case.kind == "salary":
            kinds.add("pay")
        before = query.earlier[-1] if composer.settings.inherit_kind and query.earlier else None
        out.append(Example(case.case_id, source, case.doc.removesuffix(".md"), case.question,
                           case.history, signals.question_vector(query), frozenset(kinds),
                           before, signals.vector(before) if before else None,
                           follows, coverage(case.question), cands, labels))
    for f in fit:
        follows = None if careers.find(f.question) else False
        out.append(Example(f.case_id, "fit", f"fit:{f.acceptable[0]}", f.question, (),
                           signals.vector(f.question), frozenset({FIT}), None, None, follows,
                           coverage(f.question)))
    for n, question in enumerate(offtopic, 1):
        follows = None if careers.find(question) else False
        out.append(Example(f"offtopic-{n}", "offtopic", f"offtopic:{n % 5}", question, (),
                           signals.vector(question), frozenset(), None, None, follows,
                           coverage(question)))
    return out


def folds(examples: Sequence[Example], k: int) -> list[int]:
    """Each example's fold: whole documents to the fold with the fewest cases so far, the
    documents with most cases first (deterministic, balanced)."""
    size = Counter(e.group for e in examples)
    load = [0] * k
    fold_of: dict[str, int] = {}
    for group in sorted(size, key=lambda g: (-size[g], g)):
        fold_of[group] = min(range(k), key=lambda i: (load[i], i))
        load[fold_of[group]] += size[group]
    return [fold_of[e.group] for e in examples]


def counts(examples: Sequence[Example]) -> dict[str, int]:
    """How many examples each part learns from."""
    answerable = [e for e in examples if e.candidates is not None]
    return {
        "cases": len(examples),
        "ranked": sum(1 for e in answerable if len(e.candidates or ()) and e.labels.any()),
        "candidates": sum(len(e.candidates or ()) for e in answerable),
        "follow_up_turns": sum(1 for e in examples if e.follows is not None),
        "kinds_labelled": sum(1 for e in examples if e.kinds),
    }
