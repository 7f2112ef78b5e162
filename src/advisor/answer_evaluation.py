"""Answer benchmark: every case through the chat service -> evidence, citation and refusal rates."""

from __future__ import annotations

import json
import re
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from advisor.chat import ChatService, Mode, cited_numbers
from advisor.errors import EvaluationError
from advisor.evaluation import Case, fold, is_relevant, load_cases
from advisor.types import Answer, Turn

ANSWER_KEYS = (
    "n",
    "evidence_in_answer",
    "citation_valid",
    "citation_supports",
    "refusal_rate_offtopic",
    "false_refusal_rate",
    "first_token_ms_p50",
    "total_ms_p50",
)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_WORD = re.compile(r"[a-z][a-z+#./-]*[a-z+#]|[a-z]")
_STOPWORDS = frozenset(
    "a an and are as at be but by can for from has have in into is it its of on or such that the "
    "their them these they this those to was were which while with within your you will often "
    "also more most some other than then there when where who how what".split()
)


@dataclass(frozen=True)
class AnswerResult:
    """One case's answer and what it was judged to contain."""

    case_id: str
    answerable: bool
    answer: Answer
    evidence_in_answer: bool
    supported: bool
    markers: int
    valid_markers: int


def load_offtopic(path: Path) -> list[str]:
    """Questions the documents do not cover (JSONL with ``question``)."""
    questions: list[str] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            questions.append(str(json.loads(line)["question"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise EvaluationError(f"{path}:{n}: not a valid off-topic case ({exc})") from exc
    return questions


def key_terms(evidence: str) -> tuple[set[str], set[str]]:
    """Numbers and content words of an evidence string."""
    low = fold(evidence)
    numbers = set(_NUMBER.findall(low))
    words = {w for w in _WORD.findall(low) if len(w) >= 4 and w not in _STOPWORDS}
    return numbers, words


def contains_evidence(text: str, evidence: Sequence[str]) -> bool:
    """The answer holds an evidence string, or all of its numbers and key terms."""
    answer = fold(text)
    for item in evidence:
        if fold(item) in answer:
            return True
        numbers, words = key_terms(item)
        found_numbers = set(_NUMBER.findall(answer))
        found_words = set(_WORD.findall(answer))
        if (numbers or words) and numbers <= found_numbers and words <= found_words:
            return True
    return False


def judge(case: Case | None, case_id: str, answer: Answer) -> AnswerResult:
    """Judge one answer against its case (None for an off-topic question)."""
    markers = [int(m) for m in re.findall(r"\[(\d{1,3})\]", answer.text)]
    valid = {c.number for c in answer.citations}
    ok_markers = sum(1 for m in markers if m in valid)
    if case is None:
        return AnswerResult(case_id, False, answer, False, False, len(markers), ok_markers)
    in_answer = not answer.refused and contains_evidence(answer.text, case.evidence)
    cited = set(cited_numbers(answer.text))
    chunks = {h.chunk.chunk_id: h.chunk for h in answer.hits}
    supported = any(
        c.number in cited and c.chunk_id in chunks and is_relevant(chunks[c.chunk_id], case)
        for c in answer.citations
    )
    return AnswerResult(case_id, True, answer, in_answer, supported, len(markers), ok_markers)


def run_answers(
    service: ChatService,
    cases: Sequence[Case],
    offtopic: Sequence[str],
    *,
    mode: Mode,
    on_result: Callable[[AnswerResult], None] | None = None,
) -> list[AnswerResult]:
    """Ask every case (and off-topic question) through the service."""
    results: list[AnswerResult] = []
    items: list[tuple[Case | None, str, str, tuple[str, ...]]] = [
        (c, c.case_id, c.question, c.history) for c in cases
    ]
    items += [(None, f"offtopic-{i}", q, ()) for i, q in enumerate(offtopic, 1)]
    for case, case_id, question, history in items:
        turns = [Turn("user", t) for t in history]
        answer = service.ask(question, turns, mode=mode)
        result = judge(case, case_id, answer)
        results.append(result)
        if on_result:
            on_result(result)
    return results


def case_record(result: AnswerResult) -> dict[str, object]:
    """One case's line of the per-question report: what was asked, answered and judged."""
    a = result.answer
    return {
        "id": result.case_id,
        "question": a.question,
        "answerable": result.answerable,
        "evidence_in_answer": result.evidence_in_answer,
        "citation_supports": result.supported,
        "refused": a.refused,
        "mode": a.mode,
        "answer": a.text,
        "citations": [
            {"number": c.number, "chunk_id": c.chunk_id, "doc_id": c.doc_id} for c in a.citations
        ],
        "retrieved": [h.chunk.chunk_id for h in a.hits],
        "markers": result.markers,
        "valid_markers": result.valid_markers,
        "timings": a.timings,
    }


def write_case_report(results: Sequence[AnswerResult], path: Path) -> None:
    """Every case as one JSON line, so an evaluator can see which answers missed and why."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for result in results:
            out.write(json.dumps(case_record(result), ensure_ascii=False) + "\n")


def summarize(results: Sequence[AnswerResult]) -> dict[str, float | int]:
    """The JSON object ``advisor eval-answers --json`` prints."""
    answerable = [r for r in results if r.answerable]
    offtopic = [r for r in results if not r.answerable]
    markers = sum(r.markers for r in results)

    def share(values: Sequence[bool]) -> float:
        return round(sum(values) / len(values), 4) if values else 0.0

    return {
        "n": len(results),
        "evidence_in_answer": share([r.evidence_in_answer for r in answerable]),
        "citation_valid": round(sum(r.valid_markers for r in results) / markers, 4)
        if markers
        else 1.0,
        "citation_supports": share([r.supported for r in answerable]),
        "refusal_rate_offtopic": share([r.answer.refused for r in offtopic]),
        "false_refusal_rate": share([r.answer.refused for r in answerable]),
        "first_token_ms_p50": round(
            statistics.median([r.answer.timings.get("first_token_ms", 0.0) for r in results]), 1
        )
        if results
        else 0.0,
        "total_ms_p50": round(
            statistics.median([r.answer.timings.get("total_ms", 0.0) for r in results]), 1
        )
        if results
        else 0.0,
    }


__all__ = [
    "ANSWER_KEYS",
    "AnswerResult",
    "case_record",
    "contains_evidence",
    "judge",
    "load_cases",
    "load_offtopic",
    "run_answers",
    "summarize",
    "write_case_report",
]
