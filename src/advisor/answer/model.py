"""The learned parts of an answer, read from one committed JSON file (``answer/model.json``,
rebuilt from the benchmark cases by ``advisor train-ranker``):

- ``KindModel``: which kinds of question a question asks (pay, skills, "which career fits me",
  ...), as probabilities: a logistic regression per kind over the question's words (TF-IDF) and
  its embedding;
- ``FollowUpModel``: whether a turn that names no career refers back to the conversation ("and
  what do they earn?") or starts a new subject ("Which role is called ...?");
- the sentence ranker: LightGBM LambdaRank over ``features.FEATURES``.

The file carries its manifest: the features, the case files' sha256, the training settings and
the cross-validated figures. LightGBM and scikit-learn are imported when a file is loaded.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from advisor.answer.features import FEATURES, Candidates
from advisor.errors import ConfigError

FORMAT = 1
#: The kind model's label for "which career fits me" (not a section's kind: a shape of its own).
FIT = "fit"
#: The model shipped with the package.
DEFAULT_MODEL = "model.json"
#: Words of a turn that points back at what was said before ("they", "that role", "what about").
_BACK = re.compile(
    r"\b(?:they|them|their|theirs|it|its|this|that|these|those|one|ones|there|he|she|his|her)\b"
    r"|^\W*(?:and|so|but|ok(?:ay)?|also|then|what about|how about|and what)\b"
    r"|\b(?:also|too|else|instead|another|other|same)\b", re.I)


@dataclass(frozen=True)
class WordsVectorizer:
    """TF-IDF over a text's words and word pairs, as scikit-learn's ``TfidfVectorizer`` fitted
    with these parameters (built from its vocabulary and IDF weights)."""

    vocabulary: dict[str, int]
    idf: list[float]
    _impl: Any = field(default=None, compare=False, repr=False)

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        """Rows of TF-IDF weights (dense: a question has a handful of words)."""
        impl = self._impl
        if impl is None:
            impl = vectorizer(vocabulary=self.vocabulary)
            impl.idf_ = np.asarray(self.idf)
            object.__setattr__(self, "_impl", impl)
        return np.asarray(impl.transform(list(texts)).toarray())

    def to_json(self) -> dict[str, Any]:
        return {"vocabulary": self.vocabulary, "idf": self.idf}


def vectorizer(vocabulary: Mapping[str, int] | None = None) -> Any:
    """The TF-IDF settings every model here uses (words and pairs, seen twice, damped)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True,
                           vocabulary=dict(vocabulary) if vocabulary else None)


@dataclass(frozen=True)
class Logistic:
    """A logistic regression per label over [words; dense vector]."""

    labels: tuple[str, ...]
    words: np.ndarray  # (labels, vocabulary)
    dense: np.ndarray  # (labels, dim); (labels, 0) for a words-only model
    intercept: np.ndarray  # (labels,)

    def probabilities(self, words: np.ndarray, dense: np.ndarray | None) -> np.ndarray:
        """(n, labels) probabilities; without ``dense`` (or of another dimension) the words
        alone answer."""
        z = words @ self.words.T + self.intercept
        dense = None if dense is None else np.atleast_2d(dense)
        if self.dense.shape[1] and dense is not None and dense.shape[1] == self.dense.shape[1]:
            z = z + dense @ self.dense.T
        return np.asarray(1.0 / (1.0 + np.exp(-z)))

    def to_json(self) -> dict[str, Any]:
        """Weights rounded to 3 decimals, the words' to 2 (a word's TF-IDF weight is at most 1:
        what the rounding moves a logit by is a few hundredths), as [column, weight] pairs
        without zeros."""
        sparse = [[[int(j), w] for j, w in enumerate(_rounded(row, 2)) if abs(w) >= PRUNE]
                  for row in self.words]
        return {"labels": list(self.labels), "columns": int(self.words.shape[1]),
                "words": sparse, "dense": [_rounded(row) for row in self.dense],
                "intercept": _rounded(self.intercept)}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Logistic:
        labels = tuple(raw["labels"])
        words = np.zeros((len(labels), int(raw["columns"])))
        for row, pairs in enumerate(raw["words"]):
            for column, weight in pairs:
                words[row, int(column)] = float(weight)
        dense = np.asarray(raw["dense"], dtype=np.float64).reshape(len(labels), -1)
        return cls(labels, words, dense, np.asarray(raw["intercept"], dtype=np.float64))


@dataclass(frozen=True)
class KindModel:
    """Which kinds of question a question asks: a probability per kind, from its words and its
    embedding (with an embedder of another dimension than the one it learned from, a test's
    fake or another embedding model, from its words alone)."""

    words: WordsVectorizer
    model: Logistic

    @property
    def kinds(self) -> tuple[str, ...]:
        return self.model.labels

    def probabilities(self, question: str, vector: Any = None) -> dict[str, float]:
        """Each kind's probability for one question (``vector``: its embedding)."""
        x = self.words.transform([question])
        p = self.model.probabilities(x, None if vector is None else np.asarray(vector))[0]
        return {k: round(float(v), 4) for k, v in zip(self.kinds, p, strict=True)}


def kind_probabilities(model: KindModel, question: str, vector: Any, before: str | None = None,
                       before_vector: Any = None, threshold: float = 0.5) -> dict[str, float]:
    """A turn's kind probabilities; a turn that asks no kind of its own (none reaches
    ``threshold``) after an earlier one (``before``) asks that turn's kinds as well."""
    p = model.probabilities(question, vector)
    if before is None or any(v >= threshold for k, v in p.items() if k != FIT):
        return p
    earlier = model.probabilities(before, before_vector)
    return {k: v if k == FIT else max(v, earlier.get(k, 0.0)) for k, v in p.items()}


#: Kinds that are about one career (a question of these that names none means one).
CAREER_KINDS = ("pay", "certifications", "transition", "portfolio", "specializations",
                "progression", "education", "entry", "skills", "work")


def back_signals(question: str, coverage: float, kinds: Mapping[str, float]) -> list[float]:
    """Signals of a turn that refers back: a pointing word, its length in words, how well the
    documents cover it alone (its best cosine to a passage or sentence: a question that stands
    on its own finds its answer), and how surely it asks about an aspect of one career
    ("what kind of entry-level jobs should I apply for?" without a career means the one
    spoken of)."""
    words = question.split()
    return [float(bool(_BACK.search(question))), math.log(1 + len(words)),
            float(question.rstrip().endswith("?")), coverage,
            max(kinds.get(k, 0.0) for k in CAREER_KINDS)]


@dataclass(frozen=True)
class FollowUpModel:
    """Whether a turn that names no career refers back to the conversation before it."""

    words: WordsVectorizer
    model: Logistic  # over [words; back_signals]

    def probability(self, question: str, coverage: float, kinds: Mapping[str, float]) -> float:
        """The probability that the turn refers back (``coverage``: its best cosine alone;
        ``kinds``: the kind model's probabilities for its own words)."""
        x = self.words.transform([question])
        signals = np.asarray([back_signals(question, coverage, kinds)])
        return float(self.model.probabilities(x, signals)[0, 0])


@dataclass(frozen=True)
class SentenceRanker:
    """LightGBM LambdaRank over the candidates' features: higher is a better answer."""

    features: tuple[str, ...]
    booster_text: str
    _booster: Any = field(default=None, compare=False, repr=False)

    def scores(self, rows: np.ndarray) -> np.ndarray:
        """One score per row (the columns of ``features``)."""
        booster = self._booster
        if booster is None:
            import lightgbm

            booster = lightgbm.Booster(model_str=self.booster_text)
            object.__setattr__(self, "_booster", booster)
        if not len(rows):
            return np.zeros(0)
        return np.asarray(booster.predict(rows, num_threads=1))


@dataclass(frozen=True)
class AnswerModel:
    """The kind model, the follow-up model and the sentence ranker, with their manifest."""

    kinds: KindModel
    follow_up: FollowUpModel
    ranker: SentenceRanker
    manifest: dict[str, Any] = field(default_factory=dict)

    def rank(self, candidates: Candidates, kinds: Mapping[str, float]) -> np.ndarray:
        """Each candidate's probability-like score (0..1) of holding the answer."""
        if not len(candidates):
            return np.zeros(0)
        z = self.ranker.scores(candidates.rows(kinds))
        return np.asarray(1.0 / (1.0 + np.exp(-z)))

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "manifest": self.manifest,
            "kinds": {"words": self.kinds.words.to_json(), "model": self.kinds.model.to_json()},
            "follow_up": {"words": self.follow_up.words.to_json(),
                          "model": self.follow_up.model.to_json()},
            "ranker": {"features": list(self.ranker.features),
                       "booster": self.ranker.booster_text.splitlines()},
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> AnswerModel:
        if raw.get("format") != FORMAT:
            raise ConfigError(f"answer model format {raw.get('format')!r}, expected {FORMAT}: "
                              "rebuild it with `advisor train-ranker`")
        features = tuple(raw["ranker"]["features"])
        if features != FEATURES:
            raise ConfigError("the answer model was trained on other features than this "
                              "version computes: rebuild it with `advisor train-ranker`")
        k, f = raw["kinds"], raw["follow_up"]
        return cls(
            kinds=KindModel(_words(k["words"]), Logistic.from_json(k["model"])),
            follow_up=FollowUpModel(_words(f["words"]), Logistic.from_json(f["model"])),
            ranker=SentenceRanker(features, "\n".join(raw["ranker"]["booster"]) + "\n"),
            manifest=dict(raw.get("manifest", {})),
        )


def load_model(path: Path | None = None) -> AnswerModel:
    """The answer model at ``path``, or the one shipped with the package."""
    try:
        if path is None:
            text = resources.files("advisor.answer").joinpath(DEFAULT_MODEL).read_text("utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
        return AnswerModel.from_json(json.loads(text))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        where = path or f"advisor/answer/{DEFAULT_MODEL}"
        raise ConfigError(f"cannot read the answer model {where}: {exc}") from exc


def dump_model(model: AnswerModel, path: Path) -> None:
    """Write a model file: sorted keys, one line per booster line and per row of weights
    (diffable, and the same bytes from the same fit)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(model.to_json(), indent=1, sort_keys=True, ensure_ascii=False)
    path.write_text(_NUMBERS.sub(lambda m: re.sub(r"\s+", "", m.group(0)), text) + "\n",
                    encoding="utf-8")


def _words(raw: Mapping[str, Any]) -> WordsVectorizer:
    return WordsVectorizer({str(k): int(v) for k, v in raw["vocabulary"].items()},
                           [float(v) for v in raw["idf"]])


#: A word weight below this is left out of the file: a question holds about ten words of TF-IDF
#: weight 0.3, so the small ones move a logit by hundredths. Swept under 5-fold CV
#: (evidence_in_lead questions / conversations): 0 -> 0.697 / 0.615, 0.03 -> the same,
#: 0.1 -> 0.699 / 0.615, 0.2 -> 0.699 / 0.604; the file 660 -> 629 -> 520 -> 459 kB.
PRUNE = 0.1

#: A JSON array of numbers (or of arrays of numbers) as ``json.dumps(indent=1)`` spreads it.
_NUMBERS = re.compile(r"\[[\s\d.,eE+\-\[\]]*\]")


def _rounded(values: np.ndarray, decimals: int = 3) -> list[float]:
    """Weights rounded (a weight of a logistic regression is of order 1); -0.0 as 0.0."""
    return [round(float(v), decimals) + 0.0 for v in np.ravel(values)]
