"""The lexical search structure: a bm25s index over the chunks' search texts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from advisor.text import bm25_tokenize


class Bm25Index(Protocol):
    """What search asks of a bm25s index."""

    vocab_dict: dict[str, int]

    def get_scores(self, query_tokens_single: list[str]) -> npt.NDArray[np.float32]:
        """The score of every chunk for one query's tokens."""
        ...


def build_bm25(texts: Sequence[str]) -> Any:
    """A bm25s index over the chunks' search texts."""
    return bm25_from_tokens(bm25_tokenize(texts))


def bm25_from_tokens(tokens: Any) -> Any:
    """A bm25s index over tokens already made by ``text.bm25_tokenize`` (ids or words)."""
    import bm25s

    retriever = bm25s.BM25()
    retriever.index(tokens, show_progress=False)
    return retriever


def read_bm25(folder: str) -> Bm25Index:
    """Load a saved bm25s index."""
    import bm25s

    index: Bm25Index = bm25s.BM25.load(folder)
    return index
