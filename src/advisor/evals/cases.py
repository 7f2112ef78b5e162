"""Benchmark case files: the JSONL reader every case, off-topic, fit, answer-record and BEIR
file goes through, and the retrieval cases (single questions and conversations)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from advisor.errors import EvaluationError

CONVERSATION = "conversation"  # the kind of a conversation case whose file names none


@dataclass(frozen=True)
class Case:
    """One benchmark question (or conversation: earlier ``history`` turns, then ``question``)."""

    case_id: str
    question: str
    history: tuple[str, ...]
    doc: str
    evidence: tuple[str, ...]
    kind: str = ""

    @property
    def group(self) -> str:
        """The kind it is reported under: its own, or "conversation" for an unlabelled one."""
        return self.kind or (CONVERSATION if self.history else "(none)")


def jsonl_records(path: Path, what: str) -> Iterator[tuple[int, Any]]:
    """The JSON value of each non-blank line of a JSONL file with its line number, read as a
    stream (a BEIR corpus may hold 100k passages). An unreadable file or a line that is not
    JSON is an ``EvaluationError`` that names ``what`` the file should hold."""
    try:
        with path.open(encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    value = json.loads(line)
                except ValueError as exc:
                    raise EvaluationError(f"{path}:{n}: not {what} ({exc})") from exc
                yield n, value
    except (OSError, UnicodeDecodeError) as exc:
        raise EvaluationError(f"cannot read {what} from {path}: {exc}") from exc


def load_cases(path: Path) -> list[Case]:
    """Read a JSONL case file (single questions and conversations with ``turns``)."""
    cases: list[Case] = []
    for n, raw in jsonl_records(path, "a valid case"):
        try:
            turns = raw.get("turns") or [raw["question"]]
            if not all(isinstance(t, str) and t.strip() for t in turns):
                raise ValueError("empty turn")
            evidence = raw["evidence"]
            if isinstance(evidence, str):
                evidence = [evidence]
            if not evidence:
                raise ValueError("empty evidence")
            cases.append(
                Case(
                    str(raw["id"]),
                    turns[-1],
                    tuple(turns[:-1]),
                    str(raw["doc"]),
                    tuple(evidence),
                    str(raw.get("kind") or ""),
                )
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise EvaluationError(f"{path}:{n}: not a valid case ({exc})") from exc
    if not cases:
        raise EvaluationError(f"{path} holds no cases")
    return cases
