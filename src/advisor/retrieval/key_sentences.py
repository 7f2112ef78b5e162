"""Key sentences: every sentence of some passages, scored by how closely it answers a question.

A sentence's score is its cosine to the question (from the vector the index stores for it)
plus the share of the question's words it holds, plain and weighted by how rare each word is
among the candidates ("clone" among sentences on "Git"). The composer quotes the best ones;
the hybrid retriever re-ranks its head by each passage's best.
"""

from __future__ import annotations

import math
from collections.abc import Sequence, Set
from dataclasses import dataclass

import numpy as np

from advisor.embeddings import Embedder
from advisor.index import Index
from advisor.retrieval.query import Query
from advisor.text import passage_sentences, question_words
from advisor.types import Chunk


@dataclass(frozen=True)
class KeySentence:
    """A sentence of a passage and how closely it answers the question."""

    passage: int  # position among the chunks it was picked from
    position: int  # order in its passage
    text: str
    score: float  # -inf: not quotable while other sentences are


@dataclass(frozen=True)
class StoredSentence:
    """A sentence of a chunk as key sentences keep it: its vector's row and stemmed words."""

    position: int
    text: str
    quotable: bool
    row: int  # its vector in the index, -1 if none is stored
    words: frozenset[str]  # stemmed, stop words out


class KeySentences:
    """Scores the sentences of an index's passages for a question (sentences kept per chunk)."""

    def __init__(
        self, index: Index, embedder: Embedder, *, lexical_weight: float, distinct_weight: float
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.lexical_weight = lexical_weight
        self.distinct_weight = distinct_weight
        self._cache: dict[str, tuple[StoredSentence, ...]] = {}

    def score(self, query: Query, chunks: Sequence[Chunk]) -> list[KeySentence]:
        """Every sentence of the chunks with how closely it answers the question; labels of
        under three words, lines that only introduce a list and link-only lines score -inf
        while anything else is there."""
        pool = [(n, s) for n, chunk in enumerate(chunks) for s in self.sentences_of(chunk)]
        candidates = [i for i, (_, s) in enumerate(pool) if s.quotable] or list(range(len(pool)))
        score = np.full(len(pool), -np.inf, dtype=np.float32)
        if candidates:
            vector = query.vector
            if vector is None:
                vector = self.embedder.embed_query(query.text)
            known = [i for i in candidates if pool[i][1].row >= 0]
            missing = [i for i in candidates if pool[i][1].row < 0]  # not in the index
            if known:
                rows = [pool[i][1].row for i in known]
                score[known] = self.index.sentence_vectors[rows] @ vector
            if missing:
                texts = [pool[i][1].text for i in missing]
                score[missing] = self.embedder.embed(texts) @ vector
            wanted = question_words([query.text])[0]
            coverage, distinct = overlap(set(wanted), [pool[i][1].words for i in candidates])
            score[candidates] += self.lexical_weight * coverage + self.distinct_weight * distinct
        return [
            KeySentence(n, sent.position, sent.text, float(v))
            for (n, sent), v in zip(pool, score, strict=True)
        ]

    def best(self, query: Query, positions: Sequence[int]) -> dict[int, float]:
        """The score of each chunk's best key sentence (0 for a chunk without one)."""
        chunks = [self.index.chunks[i] for i in positions]
        best = dict.fromkeys(positions, 0.0)
        for sent in self.score(query, chunks):
            if np.isfinite(sent.score):
                i = positions[sent.passage]
                best[i] = max(best[i], sent.score)
        return best

    def sentences_of(self, chunk: Chunk) -> tuple[StoredSentence, ...]:
        """A chunk's sentences with their stored vectors and stemmed words (kept per chunk)."""
        cached = self._cache.get(chunk.chunk_id)  # ids are derived from the text
        if cached is not None:
            return cached
        position = self.index.by_id.get(chunk.chunk_id)
        stored = iter(
            np.flatnonzero(self.index.sentence_owner == position).tolist()
            if position is not None
            else ()
        )
        found = passage_sentences(chunk.text)
        words = question_words([f.text for f in found])
        out = []
        for pos, (sent, tokens) in enumerate(zip(found, words, strict=True)):
            # Stored vectors follow the chunk's indexed sentences in order; the others are
            # labels ("Soft Skills", "Python") rather than answers.
            row = next(stored, -1) if sent.indexed else -1
            quotable = sent.quotable and sent.indexed
            out.append(StoredSentence(pos, sent.text, quotable, row, frozenset(tokens)))
        result = tuple(out)
        self._cache[chunk.chunk_id] = result
        return result


def overlap(wanted: set[str], sets: Sequence[Set[str]]) -> tuple[np.ndarray, np.ndarray]:
    """The share of the question's words each set holds, plain and weighted by rarity (IDF over
    these sets, so words every candidate shares count for little)."""
    if not wanted or not sets:
        return np.zeros(len(sets), dtype=np.float32), np.zeros(len(sets), dtype=np.float32)
    n = len(sets)
    found = {w: sum(w in s for s in sets) for w in wanted}
    weight = {w: math.log((n + 1) / (df + 0.5)) if df else 0.0 for w, df in found.items()}
    total = sum(weight.values()) or 1.0
    coverage = np.array([len(wanted & s) / len(wanted) for s in sets], dtype=np.float32)
    distinct = np.array([sum(weight[w] for w in wanted & s) / total for s in sets], np.float32)
    return coverage, distinct
