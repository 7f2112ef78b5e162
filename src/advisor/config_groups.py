"""The groups of the settings, each read by one part: ``RetrievalSettings`` (the retriever),
``ChatSettings`` with its ``WriterSettings`` (the chat service and the model's sentence),
``ApiSettings`` (the server). ``config.Settings`` holds one of each; import them from there."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

GROUP = ConfigDict(frozen=True, extra="forbid")


class RetrievalSettings(BaseModel):
    """How the retriever ranks: its lists, their fusion and the preference for named careers."""

    model_config = GROUP
    mode: str = Field(
        "hybrid",
        min_length=1,
        description="Which retriever answers questions: bm25, dense, hybrid or another name in "
        "wiring.RETRIEVERS.",
    )
    fusion: Literal["rrf", "weighted"] = Field("rrf", description="How hybrid fuses its lists.")
    rrf_k: int = Field(10, ge=1, description="RRF constant k.")
    dense_weight: float = Field(
        0.7, ge=0.0, le=1.0, description="Weight of the dense list in fusion (BM25 gets the rest)."
    )
    sentence_weight: float = Field(
        1.0, ge=0.0, description="Weight of a chunk's best-matching sentence in its dense score."
    )
    sentence_rerank: float = Field(
        0.08,
        ge=0.0,
        description="Hybrid RRF: how much the top rerank_depth gain from their best key "
        "sentence's score (cosine + question words held); 0 turns the re-ranking off.",
    )
    rerank_depth: int = Field(10, ge=1, description="Passages the sentence re-ranking reorders.")
    career_boost: float = Field(
        0.5, ge=0.0, description="Extra weight for passages of a career the question names."
    )
    candidates: int = Field(100, ge=1, description="Passages each list contributes to fusion.")
    lexical_weight: float = Field(
        0.15, ge=0.0, description="Key sentences: weight of the share of question words held."
    )
    distinct_weight: float = Field(
        0.3,
        ge=0.0,
        description="Key sentences: weight of that share weighted by rarity among the candidates.",
    )


class WriterSettings(BaseModel):
    """Limits of the sentence the language model adds to an answer's lead."""

    model_config = GROUP
    max_tokens: int = Field(
        64, ge=8, le=1024, description="Most tokens the model writes for an answer's lead."
    )
    sentences: int = Field(2, ge=1, description="Most model sentences an answer keeps.")
    min_share: float = Field(
        1.0,
        ge=0.0,
        le=1.0,
        description="A sentence the model writes stays only if its numbers and names appear in "
        "the passage it cites and this share of its content words do (or frame a "
        "wh-question).",
    )
    copy_overlap: float = Field(
        0.8,
        ge=0.0,
        le=1.0,
        description="A model sentence holding this share of a quote's words repeats it and goes, "
        "unless it restates it in fewer words (see condense).",
    )
    condense: float = Field(
        0.75,
        ge=0.0,
        le=1.0,
        description="A model sentence that holds a quote's words stays if it is at most this "
        "share of the quote's length: it restates the fact in fewer words.",
    )
    prompt_budget: int = Field(
        640, ge=128, description="Most prompt tokens (instruction, example, quote and question)."
    )
    question_tokens: int = Field(
        160, ge=8, description="Most tokens of the question inside the prompt."
    )
    timeout: float = Field(
        30.0, gt=0, description="Seconds before a generation is stopped and falls back."
    )
    attempts: int = Field(
        1,
        ge=1,
        description="Tries of the model while none of its sentences passes the check, each in "
        "another wording of the task (prompts/lead_retries.yaml). More tries keep more model "
        "sentences (dev share 0.23 with 3, 0.13 with 1) but, read by hand, 4 of the 14 the "
        "retries add are wrong.",
    )


class ChatSettings(BaseModel):
    """How the chat service answers: its mode, passages, refusals and the question limit."""

    model_config = GROUP
    mode: Literal["generative", "extractive"] = Field(
        "generative", description="Answer with the language model or with quoted sentences only."
    )
    top_k: int = Field(5, ge=1, le=50, description="Passages retrieved for an answer.")
    refusal_threshold: float = Field(
        0.5,
        description="Best cosine similarity to the documents below which a question that names "
        "no career counts as not covered (calibrated on the dev and off-topic cases).",
    )
    refusal_threshold_named: float = Field(
        0.35, description="The same threshold for a question that names a career of the corpus."
    )
    max_question_chars: int = Field(
        2000, ge=1, description="Longest question (a longer one is cut; the API answers 422)."
    )
    model_first: bool = Field(
        False,
        description="Put the model's sentence before the quote (the quote first keeps the fact "
        "in the answer's first 300 characters).",
    )
    writer: WriterSettings = Field(default_factory=WriterSettings)


class ApiSettings(BaseModel):
    """The server: where it listens, what one request may hold, its queues and reloads."""

    model_config = GROUP
    host: str = Field("127.0.0.1", description="Address the server binds to.")
    port: int = Field(8000, ge=1, le=65535, description="Port the server listens on.")
    max_body_bytes: int = Field(65536, ge=1024, description="Largest request body (413 beyond).")
    max_turn_chars: int = Field(
        4000, ge=1, description="Longest earlier message of a conversation /api/chat accepts."
    )
    max_history_turns: int = Field(
        20, ge=0, description="Most history turns /api/chat accepts; the latest this many are read."
    )
    max_history_chars: int = Field(
        16000, ge=0, description="Most characters of all history turns read together."
    )
    max_search_k: int = Field(20, ge=1, description="Most passages one /api/search returns.")
    max_comment_chars: int = Field(1000, ge=0, description="Longest comment with a vote.")
    search_queue_size: int = Field(
        64, ge=1, description="Searches that may wait for the query encoder before a 503."
    )
    search_timeout: float = Field(
        5.0, gt=0, description="Seconds a search waits for the query encoder before a 503."
    )
    max_wait_s: float = Field(
        2.0,
        ge=0.0,
        description="When the expected wait for the model exceeds this many seconds, answer at "
        "once from the documents (extractive) unless generative was asked for.",
    )
    reload_s: float = Field(
        10.0,
        ge=0.0,
        description="Seconds between checks for a newer index to swap in (0: only on SIGHUP).",
    )
