"""The one place that turns Settings into concrete objects."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

from advisor.answer import ChatService, load_model
from advisor.config import Settings
from advisor.corpus import ChunkerSettings, LoadReport, load_corpus
from advisor.embeddings import BatchingEmbedder, Embedder, SentenceTransformerEmbedder
from advisor.errors import IndexMismatchError, IndexMissingError
from advisor.index import BuildReport, Index, build_index, load_index
from advisor.llm import Generator, PromptLibrary
from advisor.retrieval import STANDARD, ListsFor, Retriever

log = logging.getLogger(__name__)

_EMBEDDERS: dict[str, SentenceTransformerEmbedder] = {}
#: The model libraries stay offline (the models ship in packages) and quiet.
RUNTIME_ENVIRONMENT = {
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "TRANSFORMERS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
}


def configure_runtime(settings: Settings) -> None:
    """The process-wide knobs, set by every entry point (the CLI, ``create_app``) before a
    model loads: the model libraries' environment (a value already set wins) and FAISS's
    threads per search."""
    for name, value in RUNTIME_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    if settings.faiss_threads:
        import faiss

        # In a server requests search side by side with the query encoder, and OpenMP threads
        # spinning for a second core only slow both (measured: 13% of a loaded server's CPU
        # in IndexFlat.search with two threads).
        faiss.omp_set_num_threads(settings.faiss_threads)


#: Every retriever, by name: the score lists it fuses (``retrieval/score_lists.py``);
#: ``--retriever`` chooses among them. A new retriever is a ``ScoreList`` class and one line
#: here, e.g. ``"title": lambda index, s: [TitleScores(index)],``
#: (tests/retrieval/test_score_lists.py adds one).
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
        api = settings.api
        embedder = BatchingEmbedder(
            embedder, max_waiting=api.search_queue_size, timeout=api.search_timeout
        )
    return Retriever(
        index=index, embedder=embedder, settings=settings.retrieval, retrievers=RETRIEVERS
    )


def generator_for(settings: Settings) -> Generator:
    """The language model the settings name: a remote server by URL, else a local GGUF."""
    from advisor.llm import LlamaCppGenerator, OpenAICompatibleGenerator, default_model_path

    if settings.llm_url:
        return OpenAICompatibleGenerator(
            base_url=settings.llm_url,
            model=settings.llm_remote_model,
            api_key=settings.llm_api_key,
            context_size=settings.llm_context,
            queue_size=settings.queue_size,
            concurrency=settings.llm_concurrency,
            timeout=settings.chat.writer.timeout,
        )
    return LlamaCppGenerator(
        model_path=settings.llm_model or default_model_path(),
        context_size=settings.llm_context,
        threads=settings.llm_threads,
        queue_size=settings.queue_size,
    )


def reopen(service: ChatService, folder: Path, *, chunker: ChunkerSettings) -> ChatService:
    """The same service over the index built in ``folder``: same embedder, settings, prompts,
    language model and answer model (a server swaps in a rebuilt index with it). Raises what
    ``load_index`` raises."""
    old = service.retriever
    index = load_index(folder.parent, folder.name, embedder=old.embedder, chunker=chunker)
    return service.replaced(retriever=Retriever(
        index=index, embedder=old.embedder, settings=old.settings, retrievers=old.retrievers))


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
        settings=settings.chat,
        model=load_model(settings.answer_model) if settings.answer_model else None,
    )
