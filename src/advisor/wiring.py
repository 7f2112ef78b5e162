"""The one place that turns Settings into concrete objects."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from advisor.chat import ChatService, ChatSettings
from advisor.chunking import ChunkerSettings
from advisor.config import Settings
from advisor.corpus import LoadReport, load_corpus
from advisor.embeddings import Embedder, SentenceTransformerEmbedder
from advisor.errors import IndexMismatchError, IndexMissingError
from advisor.generator import Generator
from advisor.index import BuildReport, Index, build_index, load_index
from advisor.prompts import PromptLibrary
from advisor.query_batcher import BatchingEmbedder
from advisor.retriever import STANDARD, ListsFor, RetrievalSettings, Retriever
from advisor.writer import WriterSettings

log = logging.getLogger(__name__)

_EMBEDDERS: dict[str, SentenceTransformerEmbedder] = {}

#: Every retriever, by name: the score lists it fuses (``score_lists.py``); ``--retriever``
#: chooses among them. A new retriever is a ``ScoreList`` class and one line here, e.g.
#: ``"title": lambda index, s: [TitleScores(index)],`` (tests/test_score_lists.py adds one).
RETRIEVERS: dict[str, ListsFor] = {
    **STANDARD,  # bm25, dense, hybrid (dense + BM25, re-ranked by key sentences)
}


def retriever_names() -> list[str]:
    """The names ``--retriever`` offers."""
    return list(RETRIEVERS)


def embedder_for(settings: Settings) -> SentenceTransformerEmbedder:
    """The embedder the settings name, loaded once per process."""
    onnx_dir = settings.model_cache or settings.index_dir / ".models"
    key = f"{settings.embedder}|{settings.embedder_runtime}|{onnx_dir}"
    if key not in _EMBEDDERS:
        _EMBEDDERS[key] = SentenceTransformerEmbedder.from_setting(
            settings.embedder, runtime=settings.embedder_runtime, onnx_dir=onnx_dir
        )
    return _EMBEDDERS[key]


def chunker_for(settings: Settings) -> ChunkerSettings:
    """Chunker settings from the settings."""
    return ChunkerSettings(max_tokens=settings.chunk_tokens)


def retrieval_for(settings: Settings) -> RetrievalSettings:
    """Retrieval settings from the settings."""
    return RetrievalSettings(
        mode=settings.retriever,
        fusion=settings.fusion,
        rrf_k=settings.rrf_k,
        dense_weight=settings.dense_weight,
        career_boost=settings.career_boost,
        sentence_weight=settings.sentence_weight,
        sentence_rerank=settings.sentence_rerank,
    )


def load_documents(settings: Settings, corpus: Path | None = None) -> LoadReport:
    """Documents of the corpus folder (broken files are skipped and reported)."""
    return load_corpus(corpus or settings.corpus, site_url=settings.site_url)


def build(
    settings: Settings,
    *,
    corpus: Path | None = None,
    force: bool = False,
    progress: bool = False,
    on_stage: Callable[[str], None] | None = None,
) -> tuple[LoadReport, BuildReport]:
    """Build or refresh the index of a corpus."""
    report = load_documents(settings, corpus)
    built = build_index(
        report.documents,
        embedder=embedder_for(settings),
        index_dir=settings.index_dir,
        name=settings.index_name,
        chunker=chunker_for(settings),
        ann=settings.ann,
        progress=progress,
        force=force,
        on_stage=on_stage,
    )
    return report, built


def open_index(settings: Settings, *, build_if_missing: bool = False) -> Index:
    """Load the index; build it first when it is missing or stale (and that is allowed)."""

    def load() -> Index:
        return load_index(
            settings.index_dir,
            settings.index_name,
            embedder=embedder_for(settings),
            chunker=chunker_for(settings),
        )

    try:
        return load()
    except (IndexMissingError, IndexMismatchError):
        if not build_if_missing:
            raise
        log.info("building the index of %s", settings.corpus)
        build(settings)
        return load()


def retriever_for(
    settings: Settings, index: Index | None = None, *, batch_queries: bool = False
) -> Retriever:
    """A retriever over the settings' index; a server batches concurrent query encodings."""
    index = index or open_index(settings)
    embedder: Embedder = embedder_for(settings)
    if batch_queries:
        embedder = BatchingEmbedder(
            embedder, max_waiting=settings.search_queue_size, timeout=settings.search_timeout
        )
    return Retriever(
        index=index, embedder=embedder, settings=retrieval_for(settings), retrievers=RETRIEVERS
    )


def generator_for(settings: Settings) -> Generator:
    """The language model the settings name: a remote server by URL, else a local GGUF."""
    from advisor.generator import LlamaCppGenerator, OpenAICompatibleGenerator, default_model_path

    if settings.llm_url:
        return OpenAICompatibleGenerator(
            base_url=settings.llm_url,
            model=settings.llm_remote_model,
            api_key=settings.llm_api_key,
            context_size=settings.llm_context,
            queue_size=settings.queue_size,
            concurrency=settings.llm_concurrency,
            timeout=settings.generation_timeout,
        )
    return LlamaCppGenerator(
        model_path=settings.llm_model or default_model_path(),
        context_size=settings.llm_context,
        threads=settings.llm_threads,
        queue_size=settings.queue_size,
    )


def with_index(service: ChatService, index: Index) -> ChatService:
    """The same service over another index: same embedder, retrieval settings, prompts and
    model (a server swaps in a rebuilt index with it)."""
    old = service.retriever
    retriever = Retriever(
        index=index, embedder=old.embedder, settings=old.settings, retrievers=old.retrievers
    )
    return ChatService(
        retriever=retriever,
        prompts=service.prompts,
        generator=service.generator,
        settings=service.settings,
    )


def chat_settings_for(settings: Settings) -> ChatSettings:
    """Chat settings from the settings."""
    return ChatSettings(
        mode=settings.mode,
        top_k=settings.top_k,
        refusal_threshold=settings.refusal_threshold,
        refusal_threshold_named=settings.refusal_threshold_named,
        max_question_chars=settings.max_question_chars,
        writer=WriterSettings(
            max_tokens=settings.max_answer_tokens,
            min_share=settings.support_share,
            prompt_budget=settings.prompt_budget,
            timeout=settings.generation_timeout,
        ),
    )


def chat_service_for(
    settings: Settings,
    *,
    index: Index | None = None,
    with_model: bool = True,
    batch_queries: bool = False,
) -> ChatService:
    """The chat service: retriever, prompts and (unless extractive only) the model."""
    retriever = retriever_for(settings, index, batch_queries=batch_queries)
    generator = generator_for(settings) if with_model else None
    return ChatService(
        retriever=retriever,
        prompts=PromptLibrary(settings.prompts),
        generator=generator,
        settings=chat_settings_for(settings),
    )
