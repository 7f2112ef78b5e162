"""The corpus: career documents read from Markdown, kept in sync, named and cut into passages.

- ``documents.py`` Markdown career documents with front matter -> ``Document`` records
- ``sync.py``      sync the pinned corpus (https only, sha256 checked)
- ``careers.py``   the careers the documents describe: names from titles, aliases, and which
                   careers a text names (linear)
- ``chunking.py``  Document -> heading-aware chunks (pure functions)

Exports ``load_corpus`` and its ``LoadReport``, ``sync_corpus``, ``CareerMatcher`` with
``CareerMention`` and ``career_name``, ``ChunkerSettings`` with ``chunk_corpus`` and the
chunks' ``search_text``, ``sentence_texts`` and ``count_tokens``, and ``sha256_bytes``.
"""

from advisor.corpus.careers import CareerMatcher, CareerMention, career_name
from advisor.corpus.chunking import (
    ChunkerSettings,
    chunk_corpus,
    count_tokens,
    search_text,
    sentence_texts,
)
from advisor.corpus.documents import LoadReport, load_corpus, sha256_bytes
from advisor.corpus.sync import sync_corpus

__all__ = [
    "CareerMatcher",
    "CareerMention",
    "ChunkerSettings",
    "LoadReport",
    "career_name",
    "chunk_corpus",
    "count_tokens",
    "load_corpus",
    "search_text",
    "sentence_texts",
    "sha256_bytes",
    "sync_corpus",
]
