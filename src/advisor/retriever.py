"""Hybrid search over an index: BM25 and dense lists, fused, with career preference."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence, Set
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

from advisor.careers import CareerMatcher, CareerMention
from advisor.chunking import passage_sentences
from advisor.config import RetrievalSettings
from advisor.embeddings import Embedder
from advisor.index import QUESTION_STOPWORDS, Index, bm25_tokenize
from advisor.types import Chunk, Hit

Mode = Literal["bm25", "dense", "hybrid"]
MODES: tuple[Mode, ...] = ("bm25", "dense", "hybrid")


@dataclass(frozen=True)
class Query:
    """A question made standalone: the text searched and the careers it is about."""

    question: str
    text: str
    careers: tuple[CareerMention, ...]
    inherited: bool = False
    #: The embedding of ``text``, once computed, so one answer encodes its query once.
    vector: Any = field(default=None, compare=False, repr=False)


_TRANSITION = re.compile(
    r"\b(switch\w*|mov(e|ing) (in)?to|transition\w*|becom(e|ing)|go(ing)? (in)?to|get into|"
    r"pivot\w*|chang(e|ing) (careers?|roles?|to)|want to (go|be|do|work)|from .{1,40} to)\b",
    re.I,
)


def career_preference(query: Query) -> dict[str, float]:
    """How much each named career's passages are preferred (1 = fully).

    In "I'm an X and want to become a Y" the advice lives in X's document (its
    "Switching Careers" section), so the first career named leads.
    """
    if not query.careers:
        return {}
    if len(query.careers) > 1 and _TRANSITION.search(query.question):
        first = query.careers[0].doc_id
        return {c.doc_id: (1.0 if c.doc_id == first else 0.3) for c in query.careers}
    return {c.doc_id: 1.0 for c in query.careers}


class Retriever:
    """Ranks chunks of one index for a question (and the conversation before it)."""

    def __init__(
        self, *, index: Index, embedder: Embedder, settings: RetrievalSettings | None = None
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.settings = settings or RetrievalSettings()
        self.careers = CareerMatcher({d.doc_id: d.title for d in index.documents.values()})
        self._sentence_cache: dict[str, tuple[_Sentence, ...]] = {}

    # ------------------------------------------------------------ query understanding

    def condense(self, question: str, history: Sequence[str] = ()) -> Query:
        """Make a follow-up standalone: it inherits the career of the conversation."""
        own = self.careers.find(question)
        if len(own) > 1 and _TRANSITION.search(question):
            # Advice on a switch sits in the "from" career's document, under the target's name.
            target = own[-1].name
            text = f"{question} (switching careers to {target}: skills and training needed)"
            return Query(question, text, tuple(own))
        if own or not history:
            return Query(question, question, tuple(own))
        inherited = self.careers.find_in_conversation("", history)
        if not inherited:
            return Query(question, question, ())
        names = " and ".join(c.name for c in inherited)
        return Query(question, f"{names}: {question}", tuple(inherited), inherited=True)

    # ------------------------------------------------------------ the lists

    def dense_scores(self, text: str, n: int, vector: Any = None) -> dict[int, float]:
        """Top-n chunk positions by cosine similarity of the chunk plus its best sentence."""
        ix = self.index
        if not ix.chunks:
            return {}
        if vector is None:
            vector = self.embedder.embed_query(text)
        query = vector.reshape(1, -1)
        _, ids = ix.faiss_index.search(query, min(n, len(ix.chunks)))
        candidates = {int(i) for i in ids[0] if i >= 0}
        best_sentence: dict[int, float] = {}
        weight = self.settings.sentence_weight
        if weight and len(ix.sentence_owner):
            s_scores, s_ids = ix.sentence_index.search(query, min(4 * n, len(ix.sentence_owner)))
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

    def bm25_scores(self, text: str, n: int) -> dict[int, float]:
        """Top-n chunk positions by BM25 (zero scores dropped)."""
        tokens = bm25_tokenize([text], return_ids=False)
        vocab = self.index.bm25.vocab_dict
        tokens = [[t for t in tokens[0] if t in vocab]]
        if not tokens[0] or not self.index.chunks:
            return {}
        # Scores for every chunk, then the top n: a fraction of ``BM25.retrieve``'s cost per
        # query (no progress bar, no thread pool; at most a few thousand chunks here).
        scores = self.index.bm25.get_scores(tokens[0])
        n = min(n, len(scores))
        top = np.argpartition(-scores, n - 1)[:n]
        return {int(i): float(scores[i]) for i in top if scores[i] > 0}

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
        if mode in ("dense", "hybrid"):
            query = replace(query, vector=self.embedder.embed_query(query.text))
        return query, self.rank(query, k=k, mode=mode, doc_ids=doc_ids)

    def rank(
        self,
        query: Query,
        *,
        k: int = 5,
        mode: Mode | None = None,
        doc_ids: Sequence[str] | None = None,
    ) -> list[Hit]:
        """The top-k hits for a standalone query; dense modes need ``query.vector`` (which a
        server encodes together with other requests' queries, off its event loop)."""
        mode = mode or self.settings.mode
        n = max(self.settings.candidates, k)
        lists: dict[str, dict[int, float]] = {}
        if mode in ("dense", "hybrid"):
            if query.vector is None:
                raise ValueError("rank() in a dense mode needs the query's vector")
            lists["dense"] = self.dense_scores(query.text, n, query.vector)
        if mode in ("bm25", "hybrid"):
            lists["bm25"] = self.bm25_scores(query.text, n)
        if mode == "hybrid":
            scores = self._fuse(lists)
        else:
            scores = lists[mode]
        preference = career_preference(query)
        if preference and self.settings.career_boost:
            top = max(scores.values(), default=0.0)
            bonus = self.settings.career_boost * (
                top if mode != "hybrid" else 1 / self.settings.rrf_k
            )
            scores = {
                i: v + bonus * preference.get(self.index.chunks[i].doc_id, 0.0)
                for i, v in scores.items()
            }
        if doc_ids is not None:
            allowed = set(doc_ids)
            scores = {i: v for i, v in scores.items() if self.index.chunks[i].doc_id in allowed}
        ranked = sorted(scores, key=lambda i: (-scores[i], i))
        s = self.settings
        if mode == "hybrid" and s.fusion == "rrf" and s.sentence_rerank and ranked:
            # The passage holding the one sentence that answers beats one that is only on
            # topic (dev hit@3 0.918 -> 0.933, conversations hit@1 0.630 -> 0.704).
            head = ranked[: s.rerank_depth]
            best = self.best_sentences(query, head)
            lists["sentence"] = best
            for i in head:
                scores[i] += s.sentence_rerank * best[i]
            ranked = sorted(head, key=lambda i: (-scores[i], i)) + ranked[len(head) :]
        return [
            Hit(
                chunk=self.index.chunks[i],
                score=round(scores[i], 6),
                rank=r,
                scores={name: round(lst[i], 6) for name, lst in lists.items() if i in lst},
            )
            for r, i in enumerate(ranked[:k], 1)
        ]

    # ------------------------------------------------------------ sentences

    def key_sentences(self, query: Query, chunks: Sequence[Chunk]) -> list[KeySentence]:
        """Every sentence of the chunks with how closely it answers the question; labels of
        under three words, lines that only introduce a list and link-only lines score -inf
        while anything else is there."""
        pool = [(n, s) for n, chunk in enumerate(chunks) for s in self._sentences(chunk)]
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
            wanted = bm25_tokenize([query.text], return_ids=False, stopwords=QUESTION_STOPWORDS)
            coverage, distinct = _overlap(set(wanted[0]), [pool[i][1].words for i in candidates])
            s = self.settings
            score[candidates] += s.lexical_weight * coverage + s.distinct_weight * distinct
        return [
            KeySentence(n, sent.position, sent.text, float(v))
            for (n, sent), v in zip(pool, score, strict=True)
        ]

    def _sentences(self, chunk: Chunk) -> tuple[_Sentence, ...]:
        """A chunk's sentences with their stored vectors and stemmed words (kept per chunk)."""
        cached = self._sentence_cache.get(chunk.chunk_id)  # ids are derived from the text
        if cached is not None:
            return cached
        position = self.index.by_id.get(chunk.chunk_id)
        stored = iter(
            np.flatnonzero(self.index.sentence_owner == position).tolist()
            if position is not None
            else ()
        )
        found = passage_sentences(chunk.text)
        texts = [f.text for f in found]
        words = (
            bm25_tokenize(texts, return_ids=False, stopwords=QUESTION_STOPWORDS) if texts else []
        )
        out = []
        for pos, (sent, tokens) in enumerate(zip(found, words, strict=True)):
            # Stored vectors follow the chunk's indexed sentences in order; the others are
            # labels ("Soft Skills", "Python") rather than answers.
            row = next(stored, -1) if sent.indexed else -1
            quotable = sent.quotable and sent.indexed
            out.append(_Sentence(pos, sent.text, quotable, row, frozenset(tokens)))
        result = tuple(out)
        self._sentence_cache[chunk.chunk_id] = result
        return result

    def best_sentences(self, query: Query, positions: Sequence[int]) -> dict[int, float]:
        """The score of each chunk's best key sentence (0 for a chunk without one)."""
        chunks = [self.index.chunks[i] for i in positions]
        best = dict.fromkeys(positions, 0.0)
        for sent in self.key_sentences(query, chunks):
            if np.isfinite(sent.score):
                i = positions[sent.passage]
                best[i] = max(best[i], sent.score)
        return best


@dataclass(frozen=True)
class KeySentence:
    """A sentence of a passage and how closely it answers the question."""

    passage: int  # position among the chunks it was picked from
    position: int  # order in its passage
    text: str
    score: float  # -inf: not quotable while other sentences are


@dataclass(frozen=True)
class _Sentence:
    position: int
    text: str
    quotable: bool
    row: int  # its vector in the index, -1 if none is stored
    words: frozenset[str]  # stemmed, stop words out


def question_overlap(query: str, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """How much of the question's stemmed content words each text contains: the plain share,
    and the share weighted by how rare each word is among these texts (IDF over the
    candidates, so words every candidate shares count for little)."""
    tokens = bm25_tokenize([query, *texts], return_ids=False, stopwords=QUESTION_STOPWORDS)
    return _overlap(set(tokens[0]), [set(t) for t in tokens[1:]])


def _overlap(wanted: set[str], sets: Sequence[Set[str]]) -> tuple[np.ndarray, np.ndarray]:
    if not wanted or not sets:
        return np.zeros(len(sets), dtype=np.float32), np.zeros(len(sets), dtype=np.float32)
    n = len(sets)
    found = {w: sum(w in s for s in sets) for w in wanted}
    weight = {w: math.log((n + 1) / (df + 0.5)) if df else 0.0 for w, df in found.items()}
    total = sum(weight.values()) or 1.0
    coverage = np.array([len(wanted & s) / len(wanted) for s in sets], dtype=np.float32)
    distinct = np.array([sum(weight[w] for w in wanted & s) / total for s in sets], np.float32)
    return coverage, distinct
