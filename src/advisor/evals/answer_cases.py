"""Answer benchmark cases: the case files (off-topic questions, "which career fits me" cases)
and how an answer is judged to hold a case's evidence (the whole string, or all its numbers
and key words), in the answer or in its lead (first ``LEAD_CHARS`` characters).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from advisor.errors import EvaluationError
from advisor.evals.cases import jsonl_records
from advisor.evals.retrieval import doc_id_of
from advisor.text import fold, fold_space, key_terms, strip_citations, terms

LEAD_CHARS = 300


@dataclass(frozen=True)
class FitCase:
    """A "which career fits me?" question and the careers that fit (doc ids)."""

    case_id: str
    question: str
    acceptable: tuple[str, ...]


def load_offtopic(path: Path) -> list[str]:
    """Questions the documents do not cover (JSONL with ``question``)."""
    questions: list[str] = []
    for n, raw in jsonl_records(path, "a valid off-topic case"):
        try:
            questions.append(str(raw["question"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise EvaluationError(f"{path}:{n}: not a valid off-topic case ({exc})") from exc
    return questions


def has_fit_cases(path: Path) -> bool:
    """Whether a case file holds "which career fits me" cases (an ``acceptable`` list)."""
    try:
        first = next(line for line in path.read_text(encoding="utf-8").splitlines() if line)
        return "acceptable" in json.loads(first)
    except (OSError, UnicodeDecodeError, StopIteration, ValueError, TypeError):
        return False


def load_fit(path: Path) -> list[FitCase]:
    """Fit cases (JSONL with ``id``, ``question``, ``acceptable`` file names)."""
    cases: list[FitCase] = []
    for n, raw in jsonl_records(path, "a valid fit case"):
        try:
            docs = tuple(doc_id_of(str(d)) for d in raw["acceptable"])
            if not docs or not str(raw["question"]).strip():
                raise ValueError("empty question or acceptable list")
            cases.append(FitCase(str(raw["id"]), str(raw["question"]), docs))
        except (ValueError, KeyError, TypeError) as exc:
            raise EvaluationError(f"{path}:{n}: not a valid fit case ({exc})") from exc
    return cases


def contains_evidence(text: str, evidence: Sequence[str]) -> bool:
    """The answer holds an evidence string, or all of its numbers and key terms."""
    answer = fold(text)
    for item in evidence:
        if fold(item) in answer:
            return True
        numbers, words = key_terms(item)
        found_numbers, found_words = terms(answer)
        if (numbers or words) and numbers <= found_numbers and words <= found_words:
            return True
    return False


def lead_text(text: str) -> str:
    """The first ``LEAD_CHARS`` characters of an answer, citation markers out, whitespace folded."""
    return fold_space(strip_citations(text))[:LEAD_CHARS]
