"""Cross-validated answer figures (``advisor eval-answers --cv K``): the answer model is trained
on the cases of K-1 folds (grouped by document) and every case of the held-out fold is answered
through the chat service with it; each figure's mean and spread over the folds is what a new
question can expect, where the committed model's figures on its own training cases are not."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from advisor.answer import AnswerModel, ChatService, Mode
from advisor.evals.answer_cases import FitCase
from advisor.evals.answers import AnswerResult, run_answers, summarize
from advisor.evals.cases import Case
from advisor.evals.fitting import spread, train
from advisor.evals.training import Example, collect, folds

#: The groups each figure is reported for.
QUESTIONS, CONVERSATIONS = "questions", "conversations"


@dataclass(frozen=True)
class Folds:
    """The pool split by document, and the answer model trained without each fold."""

    cases: list[tuple[str, Case]]
    fit: list[FitCase]
    fold_of: dict[tuple[str, str], int]  # (file, case id) -> fold
    models: list[AnswerModel]

    @property
    def k(self) -> int:
        return len(self.models)


def fold_models(service: ChatService, cases: Sequence[tuple[str, Case]], *, k: int = 5,
                fit: Sequence[FitCase] = (), offtopic: Sequence[str] = (),
                examples: Sequence[Example] | None = None) -> Folds:
    """Split the pool into ``k`` folds by document and train a model without each."""
    examples = list(examples or collect(service, cases, fit, offtopic))
    fold_ids = folds(examples, k)
    models = [train([e for e, i in zip(examples, fold_ids, strict=True) if i != f])
              for f in range(k)]
    fold_of = {(e.source, e.case_id): i for e, i in zip(examples, fold_ids, strict=True)}
    return Folds(list(cases), list(fit), fold_of, models)


def cross_validate_answers(
    service: ChatService,
    split: Folds,
    *,
    mode: Mode = "extractive",
    on_fold: Callable[[int, dict[str, Any]], None] | None = None,
    on_result: Callable[[AnswerResult], None] | None = None,
) -> dict[str, Any]:
    """Per group (single questions, conversations) and figure: the mean, the spread (standard
    deviation) and each fold's value; ``on_result`` sees every held-out answer."""
    per_fold: list[dict[str, dict[str, Any]]] = []
    for f, model in enumerate(split.models):
        fold_service = service.replaced(model=model)
        held = [c for s, c in split.cases if split.fold_of[(s, c.case_id)] == f]
        held_fit = [x for x in split.fit if split.fold_of[("fit", x.case_id)] == f]
        figures: dict[str, dict[str, Any]] = {}
        singles = [c for c in held if not c.history]
        if singles or held_fit:
            figures[QUESTIONS] = summarize(run_answers(fold_service, singles, [], mode=mode,
                                                       fit=held_fit, on_result=on_result))
        talks = [c for c in held if c.history]
        if talks:
            figures[CONVERSATIONS] = summarize(run_answers(fold_service, talks, [], mode=mode,
                                                           on_result=on_result))
        per_fold.append(figures)
        if on_fold:
            on_fold(f, figures)
    return {"folds": split.k, "cases": len(split.cases), "groups": {
        group: _spread([fold[group] for fold in per_fold if group in fold])
        for group in (QUESTIONS, CONVERSATIONS) if any(group in fold for fold in per_fold)
    }}


def _spread(folds_figures: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Mean, standard deviation and the fold values of every numeric figure (a figure a fold
    has no case for, such as fit_hit@3, over the folds that have)."""
    out: dict[str, Any] = {}
    for name in folds_figures[0]:
        values = [f[name] for f in folds_figures if isinstance(f.get(name), int | float)]
        if values:
            out[name] = spread(values)
    return out
