"""Score lists: each one way of scoring an index's chunks for a query, and their fusion.

A retriever is a named set of score lists (``retriever.STANDARD``, ``wiring.RETRIEVERS``):
one list ranks by its own scores, several are fused by reciprocal rank (or by weighted,
min-max-normalised scores). A new way of scoring is one class that meets ``ScoreList``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

import numpy as np

from advisor.index import Index
from advisor.retrieval.query import Query
from advisor.text import bm25_tokenize


class ScoreList(Protocol):
    """Scores for a query: up to ``n`` chunk positions of the index, higher is better.

    ``name`` labels its scores in each ``Hit.scores``; ``weight`` is its share in a fusion
    (the shares of a retriever's lists add up to 1); ``needs_vector`` says whether it reads
    ``query.vector``, which the retriever then encodes first.
    """

    name: str
    weight: float
    needs_vector: bool

    def scores(self, query: Query, n: int) -> dict[int, float]:
        """Chunk position -> score, for at most ``n`` chunks."""
        ...


class Bm25Scores:
    """BM25 over the chunks' search texts (chunks without a query word left out)."""

    name = "bm25"
    needs_vector = False

    def __init__(self, index: Index, *, weight: float = 1.0) -> None:
        self.index = index
        self.weight = weight

    def scores(self, query: Query, n: int) -> dict[int, float]:
        """Top-n chunk positions by BM25 (zero scores dropped)."""
        tokens = bm25_tokenize([query.text], return_ids=False)
        vocab = self.index.bm25.vocab_dict
        words = [t for t in tokens[0] if t in vocab]
        if not words or not self.index.chunks:
            return {}
        # Scores for every chunk, then the top n: a fraction of ``BM25.retrieve``'s cost per
        # query (no progress bar, no thread pool; at most a few thousand chunks here).
        scores = self.index.bm25.get_scores(words)
        n = min(n, len(scores))
        top = np.argpartition(-scores, n - 1)[:n]
        return {int(i): float(scores[i]) for i in top if scores[i] > 0}


class DenseScores:
    """Cosine similarity of the chunk to the query, plus ``sentence_weight`` times that of the
    chunk's best-matching sentence (which a whole chunk's vector blurs)."""

    name = "dense"
    needs_vector = True

    def __init__(self, index: Index, *, sentence_weight: float, weight: float = 1.0) -> None:
        self.index = index
        self.sentence_weight = sentence_weight
        self.weight = weight

    def scores(self, query: Query, n: int) -> dict[int, float]:
        """Top-n chunk positions by cosine similarity of the chunk plus its best sentence."""
        ix = self.index
        if query.vector is None:
            raise ValueError("dense scores need the query's vector")
        if not ix.chunks:
            return {}
        vector = query.vector
        row = vector.reshape(1, -1)
        _, ids = ix.faiss_index.search(row, min(n, len(ix.chunks)))
        candidates = {int(i) for i in ids[0] if i >= 0}
        best_sentence: dict[int, float] = {}
        weight = self.sentence_weight
        if weight and len(ix.sentence_owner):
            s_scores, s_ids = ix.sentence_index.search(row, min(4 * n, len(ix.sentence_owner)))
            for sid, score in zip(s_ids[0], s_scores[0], strict=True):
                if sid < 0:
                    continue
                owner = int(ix.sentence_owner[sid])
                if score > best_sentence.get(owner, 0.0):
                    best_sentence[owner] = float(score)
            candidates |= set(best_sentence)
        order = sorted(candidates)
        chunk_sims = ix.vectors[order] @ vector
        scores = {
            i: float(sim) + weight * best_sentence.get(i, 0.0)
            for i, sim in zip(order, chunk_sims, strict=True)
        }
        top = sorted(scores, key=lambda i: (-scores[i], i))[:n]
        return {i: scores[i] for i in top}


def fuse(
    found: Sequence[tuple[ScoreList, dict[int, float]]],
    *,
    fusion: Literal["rrf", "weighted"],
    rrf_k: int,
) -> dict[int, float]:
    """One score per chunk from several lists' scores: reciprocal rank fusion, or the sum of
    min-max-normalised scores; each list counts by its weight (equal weights: plain RRF)."""
    total = sum(score_list.weight for score_list, _ in found) or 1.0
    fused: dict[int, float] = {}
    for score_list, scores in found:
        if not scores:
            continue
        w = score_list.weight * len(found) / total
        if fusion == "rrf":
            ranked = sorted(scores, key=lambda i: (-scores[i], i))
            for rank, i in enumerate(ranked, 1):
                fused[i] = fused.get(i, 0.0) + w / (rrf_k + rank)
        else:
            values = np.array(list(scores.values()))
            lo, hi = float(values.min()), float(values.max())
            for i, v in scores.items():
                fused[i] = fused.get(i, 0.0) + w * ((v - lo) / (hi - lo) if hi > lo else 1.0)
    return fused
