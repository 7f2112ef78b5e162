"""The signals of a candidate sentence that the learned ranker weighs (``model.py``).

Every quotable sentence of the retrieved passages is a candidate. Its signals are generic, not
tuned to a wording: how close it is to the question (cosine to the question, to the standalone
query and its passage's cosine; the question's words it holds, plain, weighted by rarity and
in pairs), where it stands (its passage's hybrid rank and score, its place in its line and
passage), what its section and bold label are about (their cosine to the question, the
question's words in them, the kinds of question they answer), whether it belongs to a career
the question names, and what it holds (a money figure, named things, a list, a reason, a
signpost, its length). The signals that depend on what kind of question this is come from the
kind model's probabilities (``kind_columns``), so that a cross-validation fold recomputes them
from its own kind model without scoring the sentences again.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from advisor.answer.aspects import ASPECTS, PRIORITY
from advisor.answer.checks import named_things
from advisor.answer.kinds import heading_match, kind_asked
from advisor.answer.quotes import ABOUT_GUIDE, LISTING, SIGNPOST, Quote, label_share
from advisor.answer.sections import MONEY, Sections
from advisor.retrieval import Query, Retriever, overlap
from advisor.text import content_stems, question_words
from advisor.types import Hit

#: The kinds of question a section can answer, in the order of the kind columns.
KINDS: tuple[str, ...] = tuple(ASPECTS)
_CAUSAL = re.compile(r"\b(?:because|due to|reflect\w*|as a result|since|driven by|thanks to"
                     r"|depend\w* on|influenc\w*|var(?:y|ies))\b", re.I)
_EXAMPLE = re.compile(r"\b(?:e\.g\.|such as|like|including|for example)\b", re.I)
_MODAL = re.compile(r"\b(?:can|could|should|may|might|must|will|would)\b", re.I)
#: What form of answer a question asks for: a reason, a way, an amount, a thing, a yes or no.
QUESTION_FORMS: dict[str, re.Pattern[str]] = {
    "why": re.compile(r"\bwhy\b", re.I),
    "how": re.compile(r"\bhow (?!much\b|many\b)\w+", re.I),
    "how_much": re.compile(r"\bhow (?:much|many)\b", re.I),
    "what": re.compile(r"\bwhat\b", re.I),
    "which": re.compile(r"\bwhich\b", re.I),
    "yes_no": re.compile(r"^\W*(?:do|does|did|is|are|can|could|should|will|would|am|was|has"
                         r"|have)\b", re.I),
    "where": re.compile(r"\bwhere\b", re.I),
}
#: The signals of one candidate, in the model's column order, by group (the ablation drops a
#: group at a time). The "kind" group is computed by ``kind_columns``.
GROUPS: dict[str, tuple[str, ...]] = {
    "cosine": ("cos_question", "cos_query", "cos_passage"),
    "overlap": ("words_query", "rare_words_query", "words_question", "rare_words_question",
                "word_pairs", "any_word_pair"),
    "passage": ("rank", "inverse_rank", "hybrid_score", "career_share"),
    "heading": ("heading_cos", "label_cos", "question_in_heading", "question_in_label"),
    "label": ("has_label", "label_share", "label_all"),
    "career": ("named_career", "label_names_pair", "label_names_other", "question_names"),
    "position": ("position", "first_in_passage", "place_in_line", "first_in_line"),
    "length": ("log_chars", "over_300"),
    "content": ("money", "named_things", "named_things_listing", "digits", "commas", "reason",
                "example", "modal", "duplicate"),
    "signpost": ("signpost", "signpost_about_guide"),
    "question": tuple(f"asks_{form}" for form in QUESTION_FORMS),
    "kind": ("kind_match", "kind_heading", "kind_label", "kind_money", "kind_confidence"),
}
BASE: tuple[str, ...] = tuple(n for g, names in GROUPS.items() if g != "kind" for n in names)
FEATURES: tuple[str, ...] = (*BASE, *GROUPS["kind"])


@dataclass(frozen=True)
class Candidates:
    """The candidate sentences of one ranking, with their signals."""

    quotes: list[Quote]
    base: np.ndarray  # (n, len(BASE)): the signals that do not depend on the kind model
    heading_kinds: np.ndarray  # (n, len(KINDS)): 1 where its headings are that kind's sections
    label_kinds: np.ndarray  # (n, len(KINDS)): 1 where its bold label uses that kind's words

    def __len__(self) -> int:
        return len(self.quotes)

    def rows(self, kinds: Mapping[str, float]) -> np.ndarray:
        """The full feature matrix under a question's kind probabilities."""
        return np.hstack([self.base, kind_columns(self, kinds)])


def kind_columns(c: Candidates, kinds: Mapping[str, float]) -> np.ndarray:
    """The kind group: how much of the question's kind probability the sentence's section
    answers, the same for kinds above one half (by heading, then by label), money for pay."""
    p = np.array([kinds.get(k, 0.0) for k in KINDS])
    sure = (p >= 0.5).astype(float)
    either = np.maximum(c.heading_kinds, c.label_kinds)
    money = c.base[:, BASE.index("money")]
    out = np.column_stack([
        either @ p,
        np.minimum(c.heading_kinds @ sure, 2),
        np.minimum(c.label_kinds @ sure, 2),
        money * kinds.get("pay", 0.0),
        np.full(len(c.quotes), float(p.max(initial=0.0))),
    ])
    return out.reshape(len(c.quotes), len(GROUPS["kind"]))


class Signals:
    """Computes candidates' signals over one retriever (cached per heading and label)."""

    def __init__(self, retriever: Retriever, sections: Sections) -> None:
        self.retriever = retriever
        self.sections = sections
        self._vectors: dict[str, Any] = {}

    def vector(self, text: str) -> Any:
        """A text's embedding (headings, labels and questions recur: kept)."""
        found = self._vectors.get(text)
        if found is None:
            if len(self._vectors) > 20000:
                self._vectors.clear()
            found = self._vectors[text] = self.retriever.embedder.embed_query(text)
        return found

    def question_vector(self, query: Query) -> Any:
        """The question's own embedding: the query's when it searched the question as asked
        (one encoding per answer), else the question's alone (a follow-up reads more)."""
        if query.vector is not None and query.text == query.question:
            return query.vector
        return self.vector(query.question)

    def candidates(self, query: Query, hits: Sequence[Hit], named: Sequence[str]) -> Candidates:
        """Every quotable sentence of the passages with its signals (empty if none)."""
        r = self.retriever
        index = r.index
        scored = [ks for ks in r.key_sentences(query, [h.chunk for h in hits])
                  if math.isfinite(ks.score)]
        if not scored:
            empty = np.zeros((0, len(KINDS)))
            return Candidates([], np.zeros((0, len(BASE))), empty, empty)
        stored = {(n, s.position): s for n, h in enumerate(hits)
                  for s in r.sentences.sentences_of(h.chunk)}
        question = self.question_vector(query)
        standalone = query.vector if query.vector is not None else self.vector(query.text)
        vectors = []
        for ks in scored:
            sent = stored[(ks.passage, ks.position)]
            vectors.append(index.sentence_vectors[sent.row] if sent.row >= 0
                           else self.vector(sent.text))
        matrix = np.asarray(vectors)
        cos_question, cos_query = matrix @ question, matrix @ standalone
        passages = []
        for h in hits:
            at = index.by_id.get(h.chunk.chunk_id)
            passages.append(index.vectors[at] if at is not None else self.vector(h.chunk.text))
        cos_passage = np.asarray(passages) @ question
        words = [stored[(ks.passage, ks.position)].words for ks in scored]
        in_query = overlap(set(question_words([query.text])[0]), words)
        in_question = overlap(set(question_words([query.question])[0]), words)
        asked = set(content_stems(query.question))
        pairs = set(_pairs(content_stems(query.question)))
        forms = [float(bool(rx.search(query.question))) for rx in QUESTION_FORMS.values()]
        listing = bool(LISTING.search(query.question))
        about_guide = bool(ABOUT_GUIDE.search(query.question))
        top = max((h.score for h in hits), default=0.0) or 1.0
        docs = [h.chunk.doc_id for h in hits]
        seen: set[str] = set()
        quotes, base, by_heading, by_label = [], [], [], []
        for i, ks in enumerate(scored):
            hit = hits[ks.passage]
            lines = self.sections.lines(hit.chunk)
            label, line = lines[ks.position]
            in_label = self.sections.careers_in(label) if named else set()
            things = {n for n in named_things(ks.text) if not set(content_stems(n)) <= asked}
            before = sum(1 for p in range(ks.position) if lines[p][1] == line)
            heading = " > ".join(hit.chunk.heading_path) or hit.chunk.title
            own_pairs = set(_pairs(content_stems(ks.text)))
            money = float(bool(MONEY.search(ks.text)))
            sign = float(bool(SIGNPOST.search(ks.text)))
            n_things = min(3, len(things)) / 3
            row = [
                cos_question[i], cos_query[i], cos_passage[ks.passage],
                in_query[0][i], in_query[1][i], in_question[0][i], in_question[1][i],
                len(pairs & own_pairs) / max(1, len(pairs)), float(bool(pairs & own_pairs)),
                ks.passage, 1 / (1 + ks.passage), hit.score / top,
                docs.count(hit.chunk.doc_id) / len(docs),
                float(self.vector(heading) @ question),
                float(self.vector(label) @ question) if label else 0.0,
                _share(asked, set(content_stems(heading))),
                _share(asked, set(content_stems(label))),
                float(bool(label)), label_share(label, asked) if label else 0.0,
                float(bool(label) and label_share(label, asked) == 1.0),
                float(hit.chunk.doc_id in named),
                float(len(named) >= 2 and set(named) <= in_label),
                float(bool(in_label & set(named) - {hit.chunk.doc_id})), float(bool(named)),
                min(ks.position, 20) / 20, float(ks.position == 0), min(before, 5) / 5,
                float(before == 0),
                math.log(len(ks.text)), float(len(ks.text) > 300),
                money, n_things, n_things * listing, float(any(c.isdigit() for c in ks.text)),
                min(ks.text.count(","), 8) / 8, float(bool(_CAUSAL.search(ks.text))),
                float(bool(_EXAMPLE.search(ks.text))), float(bool(_MODAL.search(ks.text))),
                float(ks.text in seen),
                sign, sign * about_guide,
                *forms,
            ]
            seen.add(ks.text)
            # The title too: an overview chapter's own ("Resources for Further Exploration").
            where = (hit.chunk.title, *hit.chunk.heading_path, label)
            by_heading.append([float(heading_match(where, [k])) for k in KINDS])
            # (The halves of the switching sections have no words of their own to look for.)
            by_label.append([float(bool(label) and k in PRIORITY and kind_asked(label, k))
                             for k in KINDS])
            quotes.append(Quote(hit, ks.text, ks.position, ks.score, label, line))
            base.append(row)
        return Candidates(quotes, np.asarray(base, dtype=np.float64),
                          np.asarray(by_heading), np.asarray(by_label))


def section_kinds(quote: Quote) -> set[str]:
    """The kinds of question the sentence's own section answers: those its bold label names,
    and those of the nearest heading above it that names any (in an overview chapter, its
    title). "Getting Started" holds the skills as well as the studies: a heading further up
    than "Key Skills Required" says less of the sentence."""
    label = quote.label
    kinds = {k for k in KINDS if label and (heading_match((label,), [k])
                                            or (k in PRIORITY and kind_asked(label, k)))}
    chunk = quote.hit.chunk
    for heading in reversed((chunk.title, *chunk.heading_path)):
        found = {k for k in KINDS if heading_match((heading,), [k])}
        if found:
            return kinds | found
    return kinds


def _pairs(stems: Sequence[str]) -> list[tuple[str, str]]:
    return list(zip(stems, stems[1:], strict=False))


def _share(asked: set[str], words: set[str]) -> float:
    return len(asked & words) / len(asked) if asked else 0.0
