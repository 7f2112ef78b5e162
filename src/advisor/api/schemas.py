"""Request and response bodies of the JSON API, with their examples.

Their size limits come from the settings: ``limits.check`` holds a request to them and
``limits.document`` writes them into the OpenAPI document.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from advisor.querylog import TOKEN_PATTERN

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,120}$"


class TurnIn(BaseModel):
    """One earlier message of the conversation."""

    model_config = ConfigDict(extra="forbid", strict=True)
    role: Literal["user", "assistant"]
    content: str


class ChatRequest(BaseModel):
    """A question, the conversation so far, and how to answer."""

    # strict: "stream": 0 or "k": "5" is refused as the schema says, not coerced.
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {
                    "question": "and what do they earn at first?",
                    "history": [
                        {"role": "user", "content": "What does a data engineer do?"},
                        {"role": "assistant", "content": "Data engineers build pipelines [1]."},
                    ],
                    "stream": False,
                }
            ]
        },
    )
    question: str = Field(min_length=1)
    history: list[TurnIn] = Field(default_factory=list)
    mode: Literal["generative", "extractive"] | None = None
    stream: bool = False


class CitationOut(BaseModel):
    """A passage the answer cites."""

    number: int
    chunk_id: str
    doc_id: str
    title: str
    heading_path: list[str]
    url: str | None
    text: str
    start: int
    end: int


class DetailOut(BaseModel):
    """A further quote of the answer, under its citation number."""

    text: str
    citation: int


class ChatResponse(BaseModel):
    """An answer with the passages it cites.

    ``answer`` is what a student sees first (1-2 sentences, [n] markers); ``details`` are
    further quotes; ``citations`` holds every number used in either.
    """

    answer: str
    details: list[DetailOut] = []
    citations: list[CitationOut]
    careers: list[str] = []
    suggestions: list[str] = []
    kind: str = ""
    refused: bool
    mode: str
    timings: dict[str, float]
    notices: list[str] = []
    query_id: int | None = None
    feedback_token: str | None = Field(
        default=None, description="Send it back with a vote on this answer (POST /api/feedback)."
    )


class SearchRequest(BaseModel):
    """Passage search without the model."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [{"query": "entry-level salary", "career": "24-Data_Engineer", "k": 5}]
        },
    )
    query: str = Field(min_length=1)
    career: str | None = Field(default=None, pattern=ID_PATTERN)
    k: int = Field(default=5, ge=1)


class FeedbackRequest(BaseModel):
    """Thumbs up or down on one answer; a second vote with the same token replaces the first."""

    model_config = ConfigDict(extra="forbid", strict=True)
    feedback_token: str = Field(
        pattern=TOKEN_PATTERN, description="The feedback_token that came with the answer."
    )
    rating: Literal["up", "down"]
    comment: str = ""


class OpenAIMessage(BaseModel):
    """A message of an OpenAI-style chat request."""

    model_config = ConfigDict(strict=True)

    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | list[dict[str, Any]] | None = Field(default="")


class OpenAIChatRequest(BaseModel):
    """The subset of the OpenAI chat-completions request the advisor honours."""

    model_config = ConfigDict(strict=True)

    model: str = "advisor"
    messages: list[OpenAIMessage] = Field(min_length=1)
    stream: bool = False
    max_tokens: int | None = None
    temperature: float | None = None
