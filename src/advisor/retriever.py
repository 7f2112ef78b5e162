"""Hybrid search over an index: BM25 and dense lists, fused, with career preference."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from advisor.careers import CareerMatcher, CareerMention
from advisor.embeddings import Embedder
from advisor.index import Index, bm25_tokenize
from advisor.types import Hit

Mode = Literal["bm25", "dense", "hybrid"]
MODES: tuple[Mode, ...] = ("bm25", "dense", "hybrid")


@dataclass(frozen=True)
class Query:
    """A question made standalone: the text searched and the careers it is about."""

    question: str
    text: str
    careers: tuple[CareerMention, ...]
    inherited: bool = False


@dataclass(frozen=True)
class RetrievalSettings:
    """How lists are fused and how strongly named careers are preferred."""

    mode: Mode = "hybrid"
    fusion: Literal["rrf", "weighted"] = "rrf"
    rrf_k: int = 60
    dense_weight: float = 0.5
    career_boost: float = 1.0
    candidates: int = 100


class Retriever:
    """Ranks chunks of one index for a question (and the conversation before it)."""

    def __init__(
        self, *, index: Index, embedder: Embedder, settings: RetrievalSettings | None = None
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.settings = settings or RetrievalSettings()
        self.careers = CareerMatcher({d.doc_id: d.title for d in index.documents.values()})

    # ------------------------------------------------------------ query understanding

    def condense(self, question: str, history: Sequence[str] = ()) -> Query:
        """Make a follow-up standalone: it inherits the career of the conversation."""
        own = self.careers.find(question)
        if own or not history:
            return Query(question, question, tuple(own))
        inherited = self.careers.find_in_conversation("", history)
        if not inherited:
            return Query(question, question, ())
        names = " and ".join(c.name for c in inherited)
        return Query(question, f"{names}: {question}", tuple(inherited), inherited=True)

    # ------------------------------------------------------------ the lists

    def dense_scores(self, text: str, n: int) -> dict[int, float]:
        """Top-n chunk positions by cosine similarity."""
        if not self.index.chunks:
            return {}
        vector = self.embedder.embed_query(text).reshape(1, -1)
        scores, ids = self.index.faiss_index.search(vector, min(n, len(self.index.chunks)))
        return {int(i): float(s) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0}

    def bm25_scores(self, text: str, n: int) -> dict[int, float]:
        """Top-n chunk positions by BM25 (zero scores dropped)."""
        tokens = bm25_tokenize([text], return_ids=False)
        vocab = self.index.bm25.vocab_dict
        tokens = [[t for t in tokens[0] if t in vocab]]
        if not tokens[0] or not self.index.chunks:
            return {}
        ids, scores = self.index.bm25.retrieve(
            tokens, k=min(n, len(self.index.chunks)), show_progress=False, n_threads=1
        )
        return {int(i): float(s) for i, s in zip(ids[0], scores[0], strict=True) if s > 0}

    # ------------------------------------------------------------ fusion

    def _fuse(self, lists: dict[str, dict[int, float]]) -> dict[int, float]:
        s = self.settings
        weights = {"dense": s.dense_weight, "bm25": 1.0 - s.dense_weight}
        fused: dict[int, float] = {}
        for name, scores in lists.items():
            if not scores:
                continue
            w = weights[name] * 2  # so equal weights give plain RRF
            if s.fusion == "rrf":
                ranked = sorted(scores, key=lambda i: (-scores[i], i))
                for rank, i in enumerate(ranked, 1):
                    fused[i] = fused.get(i, 0.0) + w / (s.rrf_k + rank)
            else:
                values = np.array(list(scores.values()))
                lo, hi = float(values.min()), float(values.max())
                for i, v in scores.items():
                    fused[i] = fused.get(i, 0.0) + w * ((v - lo) / (hi - lo) if hi > lo else 1.0)
        return fused

    def search(
        self,
        question: str,
        *,
        k: int = 5,
        history: Sequence[str] = (),
        mode: Mode | None = None,
        doc_ids: Sequence[str] | None = None,
    ) -> tuple[Query, list[Hit]]:
        """The standalone query and the top-k hits; ``doc_ids`` keeps only those careers."""
        query = self.condense(question, history)
        mode = mode or self.settings.mode
        n = max(self.settings.candidates, k)
        lists: dict[str, dict[int, float]] = {}
        if mode in ("dense", "hybrid"):
            lists["dense"] = self.dense_scores(query.text, n)
        if mode in ("bm25", "hybrid"):
            lists["bm25"] = self.bm25_scores(query.text, n)
        if mode == "hybrid":
            scores = self._fuse(lists)
        else:
            scores = lists[mode]
        named = {c.doc_id for c in query.careers}
        if named and self.settings.career_boost:
            top = max(scores.values(), default=0.0)
            bonus = self.settings.career_boost * (top if mode != "hybrid" else 1 / self.settings.rrf_k)
            scores = {i: v + (bonus if self.index.chunks[i].doc_id in named else 0.0)
                      for i, v in scores.items()}
        if doc_ids is not None:
            allowed = set(doc_ids)
            scores = {i: v for i, v in scores.items() if self.index.chunks[i].doc_id in allowed}
        ranked = sorted(scores, key=lambda i: (-scores[i], i))[:k]
        hits = [
            Hit(
                chunk=self.index.chunks[i],
                score=round(scores[i], 6),
                rank=r,
                scores={name: round(lst[i], 6) for name, lst in lists.items() if i in lst},
            )
            for r, i in enumerate(ranked, 1)
        ]
        return query, hits
