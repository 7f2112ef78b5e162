"""Search over an index: a retriever's score lists, fused, with career preference and a
re-ranking of the head by each passage's best key sentence.

A retriever is a name and the score lists it fuses (``score_lists.py``): the standard ones are
``bm25``, ``dense`` and ``hybrid`` (dense + BM25); ``wiring.RETRIEVERS`` may add more.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from advisor.config import RetrievalSettings
from advisor.corpus import CareerMatcher
from advisor.embeddings import Embedder
from advisor.errors import ConfigError
from advisor.index import Index
from advisor.retrieval.key_sentences import KeySentence, KeySentences
from advisor.retrieval.query import Query, career_preference, condense
from advisor.retrieval.score_lists import Bm25Scores, DenseScores, ScoreList, fuse
from advisor.types import Chunk, Hit

#: What makes a retriever: the score lists it fuses, over an index and the settings.
ListsFor = Callable[[Index, RetrievalSettings], Sequence[ScoreList]]

#: The retrievers every ``Retriever`` knows (``wiring.RETRIEVERS`` starts from these).
STANDARD: dict[str, ListsFor] = {
    "bm25": lambda index, s: [Bm25Scores(index)],
    "dense": lambda index, s: [DenseScores(index, sentence_weight=s.sentence_weight)],
    "hybrid": lambda index, s: [
        DenseScores(index, sentence_weight=s.sentence_weight, weight=s.dense_weight),
        Bm25Scores(index, weight=1.0 - s.dense_weight),
    ],
}


class Retriever:
    """Ranks chunks of one index for a question (and the conversation before it)."""

    def __init__(
        self,
        *,
        index: Index,
        embedder: Embedder,
        settings: RetrievalSettings | None = None,
        retrievers: Mapping[str, ListsFor] | None = None,
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.settings = settings or RetrievalSettings()
        self.retrievers = dict(retrievers or STANDARD)
        self.careers = CareerMatcher({d.doc_id: d.title for d in index.documents.values()})
        self.sentences = KeySentences(
            index,
            embedder,
            lexical_weight=self.settings.lexical_weight,
            distinct_weight=self.settings.distinct_weight,
        )
        self._lists = {
            name: list(make(index, self.settings)) for name, make in self.retrievers.items()
        }
        self.lists(self.settings.mode)  # an unknown name fails here, not at the first question

    def lists(self, mode: str | None = None) -> list[ScoreList]:
        """The score lists of a retriever (the settings' by default)."""
        name = mode or self.settings.mode
        if name not in self._lists:
            raise ConfigError(
                f"unknown retriever {name!r}: choose one of {', '.join(self._lists)}"
            )
        return self._lists[name]

    def needs_vector(self, mode: str | None = None) -> bool:
        """Whether a retriever reads the query's embedding (so ``rank`` needs it)."""
        return any(score_list.needs_vector for score_list in self.lists(mode))

    def condense(self, question: str, history: Sequence[str] = (), *,
                 follows: bool | None = None, subject: str | None = None,
                 switch: bool | None = None) -> Query:
        """Make a follow-up standalone (``query.condense``)."""
        return condense(self.careers, question, history, follows=follows, subject=subject,
                        switch=switch)

    def with_vector(self, query: Query) -> Query:
        """The query with its embedding."""
        return replace(query, vector=self.embedder.embed_query(query.text))

    def search(
        self,
        question: str,
        *,
        k: int = 5,
        history: Sequence[str] = (),
        mode: str | None = None,
        doc_ids: Sequence[str] | None = None,
        follows: bool | None = None,
        subject: str | None = None,
        switch: bool | None = None,
    ) -> tuple[Query, list[Hit]]:
        """The standalone query and the top-k hits; ``doc_ids`` keeps only those careers;
        ``follows``, ``subject`` and ``switch`` as ``query.condense`` reads them."""
        query = self.condense(question, history, follows=follows, subject=subject,
                              switch=switch)
        if self.needs_vector(mode):
            query = self.with_vector(query)
        return query, self.rank(query, k=k, mode=mode, doc_ids=doc_ids)

    def rank(
        self,
        query: Query,
        *,
        k: int = 5,
        mode: str | None = None,
        doc_ids: Sequence[str] | None = None,
    ) -> list[Hit]:
        """The top-k hits for a standalone query; a retriever that ``needs_vector`` needs
        ``query.vector`` (which a server encodes together with other requests' queries)."""
        s = self.settings
        lists = self.lists(mode)
        if query.vector is None and self.needs_vector(mode):
            raise ValueError(f"rank() with {mode or s.mode} needs the query's vector")
        n = max(s.candidates, k)
        found = [(score_list, score_list.scores(query, n)) for score_list in lists]
        fused = len(found) > 1
        scores = fuse(found, fusion=s.fusion, rrf_k=s.rrf_k) if fused else dict(found[0][1])
        preference = career_preference(query)
        if preference and s.career_boost:
            top = max(scores.values(), default=0.0)
            bonus = s.career_boost * (1 / s.rrf_k if fused else top)
            scores = {
                i: v + bonus * preference.get(self.index.chunks[i].doc_id, 0.0)
                for i, v in scores.items()
            }
        if doc_ids is not None:
            allowed = set(doc_ids)
            scores = {i: v for i, v in scores.items() if self.index.chunks[i].doc_id in allowed}
        by_name = {score_list.name: values for score_list, values in found}
        ranked = sorted(scores, key=lambda i: (-scores[i], i))
        if fused and s.fusion == "rrf" and s.sentence_rerank and ranked:
            # The passage holding the one sentence that answers beats one that is only on
            # topic (dev hit@3 0.918 -> 0.933, conversations hit@1 0.630 -> 0.704).
            head = ranked[: s.rerank_depth]
            best = by_name["sentence"] = self.sentences.best(query, head)
            for i in head:
                scores[i] += s.sentence_rerank * best[i]
            ranked = sorted(head, key=lambda i: (-scores[i], i)) + ranked[len(head) :]
        return [
            Hit(
                chunk=self.index.chunks[i],
                score=round(scores[i], 6),
                rank=r,
                scores={name: round(lst[i], 6) for name, lst in by_name.items() if i in lst},
            )
            for r, i in enumerate(ranked[:k], 1)
        ]

    def similarity(self, text: str, vector: Any = None) -> float:
        """Best cosine similarity of a text to any chunk or sentence: how well it is covered."""
        ix = self.index
        if not ix.chunks:
            return 0.0
        if vector is None:
            vector = self.embedder.embed_query(text)
        query = vector.reshape(1, -1)
        best, _ = ix.faiss_index.search(query, 1)
        score = float(best[0][0])
        if len(ix.sentence_owner):
            best, _ = ix.sentence_index.search(query, 1)
            score = max(score, float(best[0][0]))
        return score

    def key_sentences(self, query: Query, chunks: Sequence[Chunk]) -> list[KeySentence]:
        """Every sentence of the chunks with how closely it answers the question (see
        ``key_sentences.KeySentences.score``)."""
        return self.sentences.score(query, chunks)

    def best_sentences(self, query: Query, positions: Sequence[int]) -> dict[int, float]:
        """The score of each chunk's best key sentence (0 for a chunk without one)."""
        return self.sentences.best(query, positions)
