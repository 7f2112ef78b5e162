"""Fitting the answer model's three parts to the examples of ``training`` (scikit-learn and
LightGBM imported when a part is fitted), and their held-out figures over folds grouped by
document:

- the kind model, on each question's kinds: those of the sections (and bold labels) its
  evidence sits under, pay for a salary case, "fit" for a "which career fits me" case;
- the follow-up model, on the turns that name no career: a conversation's last turn refers back,
  a single question (or an off-topic or fit question) does not;
- the sentence ranker (LightGBM LambdaRank), on the cases whose passages hold a positive, with
  the kind columns from out-of-fold kind probabilities (as an unseen question gets them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from advisor.answer import FEATURES, KINDS, AnswerModel
from advisor.answer.model import (
    FIT,
    FollowUpModel,
    KindModel,
    Logistic,
    SentenceRanker,
    WordsVectorizer,
    back_signals,
    kind_probabilities,
    vectorizer,
)
from advisor.evals.training import Example, folds

#: The kind model's labels: the kinds of the sections, and "which career fits me".
KIND_LABELS: tuple[str, ...] = (*KINDS, FIT)
#: LightGBM's settings (one thread and a fixed seed: the same file from the same cases).
RANKER_PARAMS: dict[str, Any] = {
    "objective": "lambdarank", "n_estimators": 300, "learning_rate": 0.03, "num_leaves": 5,
    "min_child_samples": 30, "subsample": 0.8, "subsample_freq": 1, "colsample_bytree": 0.8,
    "reg_lambda": 1.0, "random_state": 0, "deterministic": True, "force_row_wise": True,
    "n_jobs": 1, "verbose": -1,
}
#: Regularisation of the logistic regressions (inverse strength), chosen on cross-validation.
KIND_C = 3.0
#: Each kind's cases weigh as much as the others (a rare kind, "which career fits me", is
#: otherwise never sure: CV fit_hit@3 0.47 -> 0.82).
KIND_WEIGHT: str | None = "balanced"
FOLLOW_C = 1.0


def fit_kinds(examples: Sequence[Example], *, embedding: bool = True) -> KindModel:
    """A logistic regression per kind over the question's words and (``embedding``) its
    embedding; a kind never or always seen gets a constant."""
    from sklearn.linear_model import LogisticRegression

    texts = [e.question for e in examples]
    words = fit_words(texts)
    x_words = words.transform(texts)
    dense = np.asarray([e.vector for e in examples]) if embedding else np.zeros((len(texts), 0))
    x = np.hstack([x_words, dense])
    y = np.array([[k in e.kinds for k in KIND_LABELS] for e in examples], dtype=int)
    coef = np.zeros((len(KIND_LABELS), x.shape[1]))
    intercept = np.zeros(len(KIND_LABELS))
    for j in range(len(KIND_LABELS)):
        positives = int(y[:, j].sum())
        if positives in (0, len(y)):
            intercept[j] = 12.0 if positives else -12.0
            continue
        model = LogisticRegression(C=KIND_C, max_iter=5000, class_weight=KIND_WEIGHT)
        model.fit(x, y[:, j])
        coef[j], intercept[j] = model.coef_[0], model.intercept_[0]
    n = x_words.shape[1]
    return KindModel(words, Logistic(KIND_LABELS, coef[:, :n], coef[:, n:], intercept))


def fit_words(texts: Sequence[str]) -> WordsVectorizer:
    """The TF-IDF vocabulary and weights of these texts, as a model file keeps them."""
    impl = vectorizer().fit(texts)
    return WordsVectorizer({t: int(i) for t, i in sorted(impl.vocabulary_.items())},
                           [float(v) for v in impl.idf_])


def fit_follow_up(examples: Sequence[Example],
                  own_kinds: Sequence[Mapping[str, float]]) -> FollowUpModel:
    """A logistic regression over a turn's words and its pointing signals (``own_kinds``: each
    example's kind probabilities from its own words, out of fold)."""
    from sklearn.linear_model import LogisticRegression

    turns = [(e, p) for e, p in zip(examples, own_kinds, strict=True) if e.follows is not None]
    texts = [e.question for e, _ in turns]
    words = fit_words(texts)
    x_words = words.transform(texts)
    signals = np.asarray([back_signals(e.question, e.coverage, p) for e, p in turns])
    y = np.array([bool(e.follows) for e, _ in turns], dtype=int)
    model = LogisticRegression(C=FOLLOW_C, max_iter=5000, class_weight="balanced").fit(
        np.hstack([x_words, signals]), y)
    n = x_words.shape[1]
    return FollowUpModel(words, Logistic(("follows",), model.coef_[:, :n], model.coef_[:, n:],
                                         model.intercept_))


def out_of_fold_kinds(examples: Sequence[Example], k: int = 5, *, embedding: bool = True,
                      ) -> tuple[list[dict[str, float]], list[dict[str, float]]]:
    """Each example's kind probabilities from a kind model that did not see its fold: as the
    composer reads them (a follow-up of no kind of its own with the turn before's), and from
    its own words alone (as the follow-up decision reads them)."""
    fold_ids = folds(examples, k)
    composed: list[dict[str, float]] = [{} for _ in examples]
    own: list[dict[str, float]] = [{} for _ in examples]
    for f in sorted(set(fold_ids)):
        model = fit_kinds([e for e, i in zip(examples, fold_ids, strict=True) if i != f],
                          embedding=embedding)
        for n, (e, i) in enumerate(zip(examples, fold_ids, strict=True)):
            if i == f:
                composed[n] = probabilities(model, e)
                own[n] = model.probabilities(e.question, e.vector)
    return composed, own


def fit_ranker(examples: Sequence[Example], kinds: Sequence[Mapping[str, float]]) -> SentenceRanker:
    """LambdaRank over the answerable examples' candidates (``kinds``: each one's kind
    probabilities, out of fold)."""
    import lightgbm

    rows, labels, sizes = [], [], []
    for e, p in zip(examples, kinds, strict=True):
        if e.candidates is None or not len(e.candidates) or not e.labels.any():
            continue
        rows.append(e.candidates.rows(p))
        labels.append(e.labels)
        sizes.append(len(e.labels))
    ranker = lightgbm.LGBMRanker(**RANKER_PARAMS)
    ranker.fit(np.vstack(rows), np.concatenate(labels), group=sizes,
               feature_name=list(FEATURES))
    return SentenceRanker(FEATURES, ranker.booster_.model_to_string())


def train(examples: Sequence[Example], manifest: Mapping[str, Any] | None = None, *,
          embedding: bool = True) -> AnswerModel:
    """The three models from these examples (``embedding``: the kind model reads the
    question's embedding as well as its words)."""
    kinds = fit_kinds(examples, embedding=embedding)
    composed, own = out_of_fold_kinds(examples, embedding=embedding)
    follow = fit_follow_up(examples, own)
    ranker = fit_ranker(examples, composed)
    model = AnswerModel(kinds, follow, ranker, dict(manifest or {}))
    # As written to its file (weights rounded): what cross-validation measures is what ships.
    return AnswerModel.from_json(model.to_json())


# ---------------------------------------------------------------- cross-validation


def cross_validate(examples: Sequence[Example], k: int = 5, *,
                   embedding: bool = True) -> dict[str, Any]:
    """Held-out figures of each part, fold by fold: the ranker's top-1/2/3 (a positive among
    the first n of a case whose passages hold one), the kind model's first kind, the
    follow-up model's decisions. Mean and spread over the folds."""
    fold_ids = folds(examples, k)
    per: dict[str, list[float]] = {}
    for f in range(k):
        train_set = [e for e, i in zip(examples, fold_ids, strict=True) if i != f]
        held = [e for e, i in zip(examples, fold_ids, strict=True) if i == f]
        model = train(train_set, embedding=embedding)
        for name, value in held_out_figures(model, held).items():
            per.setdefault(name, []).append(value)
    return {name: spread(v) for name, v in per.items()}


def spread(values: Sequence[float]) -> dict[str, Any]:
    """A figure over the folds: its mean, standard deviation and each fold's value."""
    return {"mean": round(float(np.mean(values)), 4), "std": round(float(np.std(values)), 4),
            "folds": [round(float(x), 4) for x in values]}


def held_out_figures(model: AnswerModel, held: Sequence[Example]) -> dict[str, float]:
    """The figures of one fold."""
    top: dict[int, list[bool]] = {1: [], 2: [], 3: []}
    kind_ok: list[bool] = []
    follow_ok: list[bool] = []
    for e in held:
        p = probabilities(model.kinds, e)
        if e.kinds:
            kind_ok.append(max(p, key=lambda kind: p[kind]) in e.kinds)
        if e.follows is not None:
            own = model.kinds.probabilities(e.question, e.vector)
            said = model.follow_up.probability(e.question, e.coverage, own) >= 0.5
            follow_ok.append(said == e.follows)
        if e.candidates is not None and len(e.candidates) and e.labels.any():
            order = np.argsort(-model.rank(e.candidates, p), kind="stable")
            for n, hits in top.items():
                hits.append(bool(e.labels[order[:n]].any()))
    out = {f"ranker_top{n}": float(np.mean(v)) for n, v in top.items() if v}
    if kind_ok:
        out["kind_first"] = float(np.mean(kind_ok))
    if follow_ok:
        out["follow_up_accuracy"] = float(np.mean(follow_ok))
    return out


def probabilities(model: KindModel, e: Example) -> dict[str, float]:
    """An example's kind probabilities as the composer computes them."""
    return kind_probabilities(model, e.question, e.vector, e.before, e.before_vector)


