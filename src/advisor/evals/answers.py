"""Answer benchmark: every case through the chat service -> evidence, citation, refusal,
support and streaming figures (defined in the README, "Answer figures"). The case files and
the evidence matching are in ``answer_cases``."""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from advisor.answer import ChatService, Mode, support
from advisor.evals.answer_cases import (
    LEAD_CHARS,
    FitCase,
    contains_evidence,
    has_fit_cases,
    lead_text,
    load_fit,
    load_offtopic,
)
from advisor.evals.cases import Case, load_cases
from advisor.evals.retrieval import is_relevant
from advisor.text import CITATION, cited_numbers
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
    "evidence_in_lead",
    "answer_chars_p50",
    "answer_chars_p90",
    "unsupported_rate",
    "stream_equals_final",
    "model_sentence_share",
    "fit_hit@3",
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
    evidence_in_lead: bool = False
    streamed: str = ""
    unsupported: tuple[str, ...] = ()  # model sentences the support check rejects now
    fit_hit: bool | None = None  # fit cases only

    @property
    def stream_equals_final(self) -> bool:
        """The streamed tokens join to exactly the final answer."""
        return self.streamed == self.answer.text


def unsupported(answer: Answer, min_share: float) -> tuple[str, ...]:
    """The model sentences of a final answer that the support check rejects."""
    headings = {c.number: " > ".join((c.title, *c.heading_path)) for c in answer.citations}
    texts = {c.number: c.text for c in answer.citations}
    bad = []
    for sentence in answer.model_sentences:
        cited = [n for n in cited_numbers(sentence) if n in headings]
        if not any(support(sentence, f"{headings[n]}: {texts[n]}", answer.question,
                           min_share=min_share, heading=headings[n]).ok for n in cited):
            bad.append(sentence)
    return tuple(bad)


def judge(case: Case | None, case_id: str, answer: Answer, *, streamed: str = "",
          min_share: float = 1.0) -> AnswerResult:
    """Judge one answer against its case (None for an off-topic question)."""
    markers = [int(m) for m in CITATION.findall(answer.text)]
    valid = {c.number for c in answer.citations}
    ok_markers = sum(1 for m in markers if m in valid)
    bad = unsupported(answer, min_share)
    if case is None:
        return AnswerResult(case_id, False, answer, False, False, len(markers), ok_markers,
                            streamed=streamed, unsupported=bad)
    in_answer = not answer.refused and contains_evidence(answer.text, case.evidence)
    in_lead = not answer.refused and contains_evidence(lead_text(answer.text), case.evidence)
    cited = set(cited_numbers(answer.text))
    chunks = {h.chunk.chunk_id: h.chunk for h in answer.hits}
    supported = any(
        c.number in cited and c.chunk_id in chunks and is_relevant(chunks[c.chunk_id], case)
        for c in answer.citations
    )
    return AnswerResult(case_id, True, answer, in_answer, supported, len(markers), ok_markers,
                        in_lead, streamed, bad)


def run_answers(
    service: ChatService,
    cases: Sequence[Case],
    offtopic: Sequence[str],
    *,
    mode: Mode,
    fit: Sequence[FitCase] = (),
    on_result: Callable[[AnswerResult], None] | None = None,
) -> list[AnswerResult]:
    """Ask every case (off-topic question, fit case) through the service, streamed."""
    results: list[AnswerResult] = []
    items: list[tuple[Case | FitCase | None, str, str, tuple[str, ...]]] = [
        (c, c.case_id, c.question, c.history) for c in cases
    ]
    items += [(None, f"offtopic-{i}", q, ()) for i, q in enumerate(offtopic, 1)]
    items += [(f, f.case_id, f.question, ()) for f in fit]
    share = service.settings.writer.min_share
    for case, case_id, question, history in items:
        pieces: list[str] = []
        answer: Answer | None = None
        for event in service.stream(question, [Turn("user", t) for t in history], mode=mode):
            if event.kind == "token":
                pieces.append(event.text)
            elif event.kind == "done":
                answer = event.answer
        assert answer is not None
        if isinstance(case, FitCase):
            result = judge(None, case_id, answer, streamed="".join(pieces), min_share=share)
            hit = bool(set(answer.careers[:3]) & set(case.acceptable))
            result = replace(result, answerable=True, fit_hit=hit)
        else:
            result = judge(case, case_id, answer, streamed="".join(pieces), min_share=share)
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
        "query": a.query,  # what was searched: a follow-up joins the turn before it
        "answerable": result.answerable,
        "kind": a.kind,
        "evidence_in_answer": result.evidence_in_answer,
        "evidence_in_lead": result.evidence_in_lead,
        "citation_supports": result.supported,
        "fit_hit": result.fit_hit,
        "refused": a.refused,
        "mode": a.mode,
        "answer": a.text,
        "lead": a.lead,
        "model_sentences": list(a.model_sentences),
        "dropped": [{"text": d.text, "reason": d.reason} for d in a.dropped],
        "details": [{"text": d.text, "citation": d.citation} for d in a.details],
        "careers": list(a.careers),
        "suggestions": list(a.suggestions),
        "citations": [
            {"number": c.number, "chunk_id": c.chunk_id, "doc_id": c.doc_id} for c in a.citations
        ],
        "retrieved": [h.chunk.chunk_id for h in a.hits],
        "markers": result.markers,
        "valid_markers": result.valid_markers,
        "stream_equals_final": result.stream_equals_final,
        "unsupported": list(result.unsupported),
        "timings": a.timings,
    }


def write_case_report(results: Sequence[AnswerResult], path: Path) -> None:
    """Every case as one JSON line, so an evaluator can see which answers missed and why."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for result in results:
            out.write(json.dumps(case_record(result), ensure_ascii=False) + "\n")


def summarize(results: Sequence[AnswerResult]) -> dict[str, float | int | None]:
    """The JSON object ``advisor eval-answers --json`` prints."""
    fit = [r for r in results if r.fit_hit is not None]
    answerable = [r for r in results if r.answerable and r.fit_hit is None]
    offtopic = [r for r in results if not r.answerable]
    markers = sum(r.markers for r in results)
    generative = [r for r in answerable if r.answer.mode == "generative" and not r.answer.refused]
    chars = [len(r.answer.text) for r in answerable if not r.answer.refused]

    def share(values: Sequence[bool]) -> float:
        return round(sum(values) / len(values), 4) if values else 0.0

    def p50(key: str) -> float:
        values = [r.answer.timings.get(key, 0.0) for r in results]
        return round(statistics.median(values), 1) if values else 0.0

    return {
        "n": len(results),
        "evidence_in_answer": share([r.evidence_in_answer for r in answerable]),
        "citation_valid": round(sum(r.valid_markers for r in results) / markers, 4)
        if markers
        else 1.0,
        "citation_supports": share([r.supported for r in answerable]),
        "refusal_rate_offtopic": share([r.answer.refused for r in offtopic]),
        "false_refusal_rate": share([r.answer.refused for r in answerable]),
        "first_token_ms_p50": p50("first_token_ms"),
        "total_ms_p50": p50("total_ms"),
        "evidence_in_lead": share([r.evidence_in_lead for r in answerable]),
        "answer_chars_p50": round(float(np.percentile(chars, 50)), 1) if chars else 0.0,
        "answer_chars_p90": round(float(np.percentile(chars, 90)), 1) if chars else 0.0,
        "unsupported_rate": share([bool(r.unsupported) for r in results]),
        "stream_equals_final": share([r.stream_equals_final for r in results]),
        "model_sentence_share": share([bool(r.answer.model_sentences) for r in generative])
        if generative
        else None,
        "fit_hit@3": share([bool(r.fit_hit) for r in fit]) if fit else None,
    }


__all__ = [
    "ANSWER_KEYS",
    "LEAD_CHARS",
    "AnswerResult",
    "FitCase",
    "case_record",
    "contains_evidence",
    "has_fit_cases",
    "judge",
    "lead_text",
    "load_cases",
    "load_fit",
    "load_offtopic",
    "run_answers",
    "summarize",
    "write_case_report",
]
