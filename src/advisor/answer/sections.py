"""What the corpus holds, by section: which documents describe one career, which kinds of
question each has sections for, the label and line of every sentence, and the follow-up
questions that point to sections an answer has not covered."""

from __future__ import annotations

import re

from advisor.answer.aspects import ASPECTS, FOLLOW_UPS
from advisor.answer.clauses import verbs_in
from advisor.answer.kinds import article, heading_match
from advisor.retrieval import Retriever
from advisor.text import passage_sentences
from advisor.types import Chunk

MONEY = re.compile(
    r"[$€£₹]\s?\d|\d\s?(?:k|LPA|USD|EUR|GBP|INR|LKR)\b|"
    r"\d[\d,.]*\s+(?:dollars|euros|pounds|rupees|\w+ (?:a|per) (?:year|month|week|hour))\b",
    re.I,
)
#: A document with sections for this many of these kinds describes one career.
_CAREER_SECTIONS = ("work", "skills", "education", "entry", "progression", "transition")


class Sections:
    """Section-level facts about the retriever's index (recomputed when the index is swapped)."""

    def __init__(self, retriever: Retriever) -> None:
        self.retriever = retriever
        self._lines: dict[str, list[tuple[str, int]]] = {}
        self._by_doc: tuple[int, dict[str, list[Chunk]]] = (0, {})
        self._kinds: dict[str, set[str]] = {}
        self._verbs: tuple[int, frozenset[str]] = (0, frozenset())

    def lines(self, chunk: Chunk) -> list[tuple[str, int]]:
        """The bold label and line of each sentence of a chunk (positions as in key_sentences)."""
        cached = self._lines.get(chunk.chunk_id)
        if cached is None:
            cached = [(s.label, s.line) for s in passage_sentences(chunk.text)]
            self._lines[chunk.chunk_id] = cached
        return cached

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        """The chunks of one document, in order."""
        index = self.retriever.index
        if self._by_doc[0] != id(index):
            by_doc: dict[str, list[Chunk]] = {}
            for chunk in index.chunks:
                by_doc.setdefault(chunk.doc_id, []).append(chunk)
            self._by_doc = (id(index), by_doc)
            self._kinds = {}
        return self._by_doc[1].get(doc_id, [])

    @property
    def verbs(self) -> frozenset[str]:
        """The words the documents use as verbs (``clauses.verbs_in``), for the clause check."""
        index = self.retriever.index
        if self._verbs[0] != id(index):
            self._verbs = (id(index), verbs_in([c.text for c in index.chunks]))
        return self._verbs[1]

    def doc_kinds(self, doc_id: str) -> set[str]:
        """The kinds of question a document has sections for (pay: only with a figure)."""
        chunks = self.chunks_of(doc_id)
        if doc_id in self._kinds:
            return self._kinds[doc_id]
        out: set[str] = set()
        for chunk in chunks:
            labels = [label for label, _ in self.lines(chunk)] or [""]
            for kind in ASPECTS:
                if any(heading_match((*chunk.heading_path, lb), [kind]) for lb in labels):
                    if kind != "pay" or MONEY.search(chunk.text):
                        out.add(kind)
        self._kinds[doc_id] = out
        return out

    def is_career(self, doc_id: str) -> bool:
        """A document about one career: named like one, or laid out like one (its sections)."""
        if self.retriever.careers.is_career(doc_id):
            return True
        return len(self.doc_kinds(doc_id) & set(_CAREER_SECTIONS)) >= 4

    def careers(self) -> list[str]:
        """The career documents, in the corpus's order (by the number their titles carry)."""
        docs = self.retriever.index.documents
        return sorted((d for d in docs if self.is_career(d)),
                      key=lambda d: (_number(docs[d].title), d))

    def name(self, doc_id: str) -> str:
        """The career's name ("Data Engineer")."""
        return self.retriever.careers.names.get(doc_id, doc_id)

    def careers_in(self, label: str) -> set[str]:
        """The careers a line label names ("To Full Stack Developer")."""
        return {m.doc_id for m in self.retriever.careers.find(label)} if label else set()

    def suggestions(self, doc_id: str, covered: set[str], limit: int) -> list[str]:
        """Questions about the same career from sections the answer has not covered."""
        name = self.name(doc_id)
        have = self.doc_kinds(doc_id)
        out = []
        for kind in FOLLOW_UPS:
            aspect = ASPECTS[kind]
            if kind in covered or kind not in have or not aspect.follow_up:
                continue
            out.append(aspect.follow_up.format(a=article(name), career=name))
            if len(out) >= limit:
                break
        return out

    def starters(self) -> list[str]:
        """First questions about the corpus's first two careers."""
        out = []
        for doc, kind in zip(self.careers(), ("work", "pay"), strict=False):
            name = self.name(doc)
            out.append(ASPECTS[kind].follow_up.format(a=article(name), career=name))
        return out


def _number(title: str) -> int:
    found = re.match(r"\s*(\d+)", title)
    return int(found.group(1)) if found else 10**6
