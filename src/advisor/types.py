"""Frozen records that flow from the corpus to the answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

HEADING_SEP = " > "


@dataclass(frozen=True)
class Section:
    """A heading of a document and the character span of its body in the source file."""

    level: int
    heading: str
    path: tuple[str, ...]
    anchor: str
    start: int
    end: int


@dataclass(frozen=True)
class Document:
    """One career document as read from disk; ``source`` is the file's exact text."""

    doc_id: str
    file_name: str
    title: str
    description: str
    url: str | None
    source: str
    content_hash: str
    body_start: int
    sections: tuple[Section, ...] = ()


@dataclass(frozen=True)
class Chunk:
    """A passage of a document; ``source[start:end] == text`` for its document."""

    chunk_id: str
    doc_id: str
    title: str
    heading_path: tuple[str, ...]
    text: str
    start: int
    end: int
    n_tokens: int
    anchor: str = ""

    @property
    def heading(self) -> str:
        """Title and heading path joined for display."""
        return HEADING_SEP.join((self.title, *self.heading_path))


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its fused score and its rank (1-based)."""

    chunk: Chunk
    score: float
    rank: int
    scores: dict[str, float] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Turn:
    """One message of a conversation."""

    role: Literal["user", "assistant"]
    content: str


@dataclass(frozen=True)
class Citation:
    """A passage an answer cites, with where to read it."""

    number: int
    chunk_id: str
    doc_id: str
    title: str
    heading_path: tuple[str, ...]
    url: str | None
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Detail:
    """A further quote of an answer, under its citation number."""

    text: str
    citation: int


@dataclass(frozen=True)
class Dropped:
    """A sentence the model wrote that the support check kept out of the answer, and why."""

    text: str
    reason: str


@dataclass(frozen=True)
class Answer:
    """An answer with the evidence it was built from.

    ``text`` is what a student sees first (the lead, and the model's checked sentences in
    generative mode); ``details`` are further quotes; ``lead`` is the quoted part of ``text``.
    """

    question: str
    text: str
    citations: tuple[Citation, ...]
    hits: tuple[Hit, ...]
    refused: bool
    mode: str
    query: str = ""
    timings: dict[str, float] = field(default_factory=dict, compare=False)
    notices: tuple[str, ...] = ()
    kind: str = ""
    lead: str = ""
    details: tuple[Detail, ...] = ()
    careers: tuple[str, ...] = ()
    suggestions: tuple[str, ...] = ()
    model_sentences: tuple[str, ...] = ()
    dropped: tuple[Dropped, ...] = ()


@dataclass(frozen=True)
class ChatEvent:
    """One step of a streamed answer: sources, token, done or error."""

    kind: Literal["sources", "token", "done", "error"]
    text: str = ""
    citations: tuple[Citation, ...] = ()
    answer: Answer | None = None
    data: dict[str, Any] = field(default_factory=dict)
