"""Compose an answer from retrieved passages, without a model: the one or two sentences that
answer (the lead), other useful quotes (details), and follow-up questions.

The retriever's signals choose: a sentence's cosine to the question plus the question words it
holds (``Retriever.key_sentences``), its passage's rank in the hybrid (dense + BM25) list, and
whether its section is where the documents answer this kind of question (``kinds``).
Comparisons, transitions and "which career fits me" have their own shapes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from advisor.checks import content_stems, named_things
from advisor.chunking import passage_sentences
from advisor.kinds import (
    ASPECTS,
    FOLLOW_UPS,
    aspects_of,
    article,
    heading_match,
    is_compare,
    is_fit,
    places_in,
    under,
)
from advisor.prompts import PromptLibrary
from advisor.retriever import Query, Retriever, question_overlap
from advisor.types import Chunk, Hit

MONEY = re.compile(
    r"[$€£₹]\s?\d|\d\s?(?:k|LPA|USD|EUR|GBP|INR|LKR)\b|"
    r"\d[\d,.]*\s+(?:dollars|euros|pounds|rupees|\w+ (?:a|per) (?:year|month|week|hour))\b",
    re.I,
)
#: A document with sections for this many of these kinds describes one career.
_CAREER_SECTIONS = ("work", "skills", "education", "entry", "progression", "transition")
_SELF_ROLE = re.compile(r"\bi(?:'m| am) (?:an? |in )|\bi work (?:as|in|on)\b|\bas an? |\bfrom\b", re.I)
_BECOME = re.compile(r"\b(?:become|be an?|go|move|get|want|switch|transition|pivot)\b", re.I)


@dataclass(frozen=True)
class ComposeSettings:
    """How sentences are chosen (weights add to a key sentence's score)."""

    pool: int = 5  # passages whose sentences may answer
    heading_weight: float = 0.3  # the sentence sits in a section of the question's kind
    rank_weight: float = 0.1  # less per rank of its passage
    named_weight: float = 0.3  # its passage belongs to a career the question names
    figure_weight: float = 0.3  # pay questions: the sentence holds a money figure
    label_weight: float = 0.2  # its bold label names what the question asks ("To Cloud Engineer")
    specific_weight: float = 0.2  # it names things (tools, certifications): up to three count
    words_weight: float = 0.0  # the question's words it holds, rare ones (among these) weigh more
    line_chars: int = 400  # the best sentence brings the rest of its line (bullet) up to this
    head_chars: int = 120  # ... those before it only this short together
    trim_chars: int = 300  # a lead sentence longer than this is cut to the clauses that answer
    second_margin: float = 0.1  # a runner-up this close to the best joins the lead
    lead_chars: int = 400  # ... if the lead stays this short
    details: int = 4
    details_per_passage: int = 2
    detail_floor: float = 0.6  # a detail scores at least this share of the lead's score
    fit_careers: int = 3
    fit_pool: int = 40
    suggestions: int = 3


@dataclass(frozen=True)
class Quote:
    """A sentence of a passage chosen for the answer."""

    hit: Hit
    text: str
    position: int
    score: float
    label: str = ""
    line: int = 0
    name: str = ""  # shown before it: the career (fit, compare) or what it is (transition)
    number: int = 0  # its citation number, once numbered


@dataclass(frozen=True)
class Composition:
    """What an answer is made of, before any model writes."""

    kind: str
    lead: tuple[Quote, ...]
    details: tuple[Quote, ...] = ()
    careers: tuple[str, ...] = ()
    suggestions: tuple[str, ...] = ()
    preface: str = ""
    hits: tuple[Hit, ...] = field(default=())  # cited passages in citation-number order

    @property
    def listed(self) -> bool:
        """One lead line per career (fit, compare) rather than running sentences."""
        return self.kind in ("fit", "compare")


class Composer:
    """Chooses the sentences of an answer from the retriever's passages."""

    def __init__(
        self,
        *,
        retriever: Retriever,
        prompts: PromptLibrary,
        settings: ComposeSettings | None = None,
    ) -> None:
        self.retriever = retriever
        self.prompts = prompts
        self.settings = settings or ComposeSettings()
        self._lines: dict[str, list[tuple[str, int]]] = {}
        self._by_doc: tuple[int, dict[str, list[Chunk]]] = (0, {})
        self._kinds: dict[str, set[str]] = {}
        self._question = ""

    # ------------------------------------------------------------ the shapes

    def compose(self, query: Query, hits: Sequence[Hit]) -> Composition:
        """The answer's parts for a question the documents cover."""
        self._question = query.question
        named = list(dict.fromkeys(c.doc_id for c in query.careers))
        kinds = aspects_of(query.question)
        if not named and "work" in kinds:
            kinds.remove("work")  # "what does the git clone command do?" is no job description
        if is_fit(query.question, len(named)):
            from advisor.fit import fit

            return self.finish(fit(self, query), query, kinds)
        pair = transition_pair(query, named, kinds)
        if pair is None and is_compare(query.question, named):
            return self.finish(self.compare(query, named[:2], kinds), query, kinds)
        if pair is not None:
            # What a switch takes, or where a career leads: two halves of the switching sections.
            needs = ASPECTS["switch_needs"].words.search(query.question)
            kinds.append("switch_needs" if needs else "switch_paths")
        ranked = self.rank(query, hits[: self.settings.pool], kinds, named)
        if not ranked:
            return Composition(kind=kinds[0] if kinds else "general", lead=())
        lead = self.lead(ranked)
        kind = kinds[0] if kinds else "general"
        preface = ""
        if pair is not None:
            kind = "transition"
            lead = self.carry_over(query, lead, pair[0])
        elif kind == "pay":
            preface = self.pay_note(query, lead, named)
        return self.finish(
            Composition(kind=kind, lead=tuple(lead), preface=preface,
                        details=tuple(self.details(ranked, lead))),
            query,
            kinds,
        )

    def compare(self, query: Query, docs: Sequence[str], kinds: Sequence[str]) -> Composition:
        """The same aspect of two careers, each from its own document."""
        aspect = [k for k in kinds if k != "transition"] or ["work"]
        lead: list[Quote] = []
        details: list[Quote] = []
        for doc in docs:
            _, hits = self.retriever.search(query.question, k=self.settings.pool, doc_ids=[doc])
            ranked = self.rank(query, hits, aspect, [doc])
            if ranked:
                lead.append(replace(ranked[0], name=self.retriever.careers.names[doc]))
                details += self.details(ranked, lead[-1:])[:2]
        return Composition(kind="compare", lead=tuple(lead), details=tuple(details))

    def carry_over(self, query: Query, lead: list[Quote], source: str | None) -> list[Quote]:
        """A transition: the target's requirements (the lead), then what carries over from the
        source career (its "Skills Transferable to Other Roles")."""
        lead = lead[:1]
        if source is None or under(_headings(lead[0]), ["transferable"]):
            return lead
        chunks = [c for c in self.chunks_of(source) if under(c.heading_path, ["transferable"])]
        hits = [Hit(chunk=c, score=0.0, rank=i) for i, c in enumerate(chunks, 1)]
        ranked = self.rank(query, hits, [], [])
        if ranked:
            name = self.prompts.render("carry_over.j2", career=self.career_name(source))
            lead.append(replace(ranked[0], name=name))
        return lead

    def pay_note(self, query: Query, lead: Sequence[Quote], named: Sequence[str]) -> str:
        """Pay: say so when the documents give no figure, or none for the place asked about."""
        said = " ".join(q.text for q in lead)
        career = self.career_name(named[0]) if named else ""
        if not MONEY.search(said):
            return self.prompts.render("pay_note.j2", career=career, place="", given=[])
        passage = " ".join(q.hit.chunk.text for q in lead)
        asked = [p for p in places_in(query.question) if p not in places_in(passage)]
        if not asked:
            return ""
        return self.prompts.render(
            "pay_note.j2", career=career, place=asked[0], given=places_in(said), figure=True
        )

    # ------------------------------------------------------------ sentences

    def rank(
        self, query: Query, hits: Sequence[Hit], kinds: Sequence[str], named: Sequence[str]
    ) -> list[Quote]:
        """Every quotable sentence of the passages, best answer first."""
        s = self.settings
        out: list[Quote] = []
        asked = set(content_stems(query.question))
        pool = [k for k in self.retriever.key_sentences(query, [h.chunk for h in hits])
                if math.isfinite(k.score)]
        _, rare = question_overlap(query.question, [k.text for k in pool])
        for ks, words in zip(pool, rare, strict=True):
            hit = hits[ks.passage]
            label, line = self.lines(hit.chunk)[ks.position]
            score = ks.score - s.rank_weight * ks.passage + s.words_weight * float(words)
            if kinds and heading_match((*hit.chunk.heading_path, label), kinds):
                score += s.heading_weight
            if hit.chunk.doc_id in named:
                score += s.named_weight
            if "pay" in kinds and MONEY.search(ks.text):
                score += s.figure_weight
            if label and (_label_asked(label, asked) or self.names_other(label, hit, named)):
                score += s.label_weight
            score += s.specific_weight * min(3, len(set(named_things(ks.text)))) / 3
            out.append(Quote(hit, ks.text, ks.position, score, label, line))
        out.sort(key=lambda q: (-q.score, q.hit.rank, q.position))
        return out

    def lead(self, ranked: Sequence[Quote]) -> list[Quote]:
        """The best sentence with the rest of its line (a bullet is one piece of advice) as far
        as ``line_chars`` allows, then a close runner-up from another line."""
        s = self.settings
        best = ranked[0]
        lead = self.line_of(best, ranked, s.line_chars)
        if s.second_margin > 0:
            taken = {(q.hit.chunk.chunk_id, q.line) for q in lead}
            other = [q for q in ranked if (q.hit.chunk.chunk_id, q.line) not in taken][:1]
            size = sum(len(q.text) for q in lead)
            if other and best.score - other[0].score <= s.second_margin:
                more = self.line_of(other[0], ranked, s.lead_chars - size)
                if size + sum(len(q.text) for q in more) <= s.lead_chars:
                    lead += more
        if s.trim_chars:
            asked = set(content_stems(self._question))
            lead = [replace(q, text=trim(q.text, q.label, asked, s.trim_chars)) for q in lead]
        return lead

    def line_of(self, best: Quote, ranked: Sequence[Quote], room: int) -> list[Quote]:
        """``best`` and the other sentences of its line while they fit in ``room`` characters:
        those before it only if together no longer than ``head_chars`` (the fact stays near
        the top), those after it nearest first."""
        line = [q for q in ranked if q.hit is best.hit and q.line == best.line and q is not best]
        before = sorted((q for q in line if q.position < best.position), key=lambda q: q.position)
        after = sorted((q for q in line if q.position > best.position), key=lambda q: q.position)
        chosen = [best]
        size = len(best.text)
        head = sum(len(q.text) for q in before)
        if before and head <= self.settings.head_chars and size + head <= room:
            chosen += before
            size += head
        for q in after:
            if size + len(q.text) > room:
                break
            chosen.append(q)
            size += len(q.text)
        return sorted(chosen, key=lambda q: q.position)

    def details(self, ranked: Sequence[Quote], lead: Sequence[Quote]) -> list[Quote]:
        """Other useful sentences, best first, a few per passage."""
        s = self.settings
        taken = {(q.hit.chunk.chunk_id, q.position) for q in lead}
        seen = {q.text for q in lead}
        floor = lead[0].score * s.detail_floor if lead else -math.inf
        per: dict[str, int] = {}
        out: list[Quote] = []
        for q in ranked:
            key = q.hit.chunk.chunk_id
            if (key, q.position) in taken or q.text in seen or q.score < floor:
                continue
            if per.get(key, 0) >= s.details_per_passage:
                continue
            out.append(q)
            seen.add(q.text)
            per[key] = per.get(key, 0) + 1
            if len(out) >= s.details:
                break
        return out

    # ------------------------------------------------------------ numbering and follow-ups

    def finish(self, comp: Composition, query: Query, kinds: Sequence[str]) -> Composition:
        """Citation numbers in order of first use, and the follow-up questions."""
        numbers: dict[str, int] = {}
        hits: list[Hit] = []

        def number(q: Quote) -> Quote:
            key = q.hit.chunk.chunk_id
            if key not in numbers:
                numbers[key] = len(numbers) + 1
                hits.append(q.hit)
            return replace(q, number=numbers[key])

        lead = tuple(number(q) for q in comp.lead)
        details = tuple(number(q) for q in comp.details)
        about = comp.careers[0] if comp.careers else self.subject(query, lead)
        covered = set(kinds) | {
            k for q in (*lead, *details) for k in ASPECTS if heading_match(_headings(q), [k])
        }
        if comp.kind != "fit":
            covered.add(comp.kind)
        suggestions = self.suggestions(about, covered) if about else self.starters()
        return replace(comp, lead=lead, details=details, hits=tuple(hits),
                       suggestions=tuple(suggestions))

    def subject(self, query: Query, lead: Sequence[Quote]) -> str | None:
        """The career an answer is about: the lead's document, else the one the question names."""
        for doc in [q.hit.chunk.doc_id for q in lead] + [c.doc_id for c in query.careers]:
            if self.is_career(doc):
                return doc
        return None

    def is_career(self, doc_id: str) -> bool:
        """A document about one career: named like one, or laid out like one (its sections)."""
        if self.retriever.careers.is_career(doc_id):
            return True
        return len(self.doc_kinds(doc_id) & set(_CAREER_SECTIONS)) >= 4

    def suggestions(self, doc_id: str, covered: set[str]) -> list[str]:
        """Questions about the same career from sections the answer has not covered."""
        name = self.career_name(doc_id)
        have = self.doc_kinds(doc_id)
        out = []
        for kind in FOLLOW_UPS:
            aspect = ASPECTS[kind]
            if kind in covered or kind not in have or not aspect.follow_up:
                continue
            out.append(aspect.follow_up.format(a=article(name), career=name))
            if len(out) >= self.settings.suggestions:
                break
        return out

    def starters(self) -> list[str]:
        """First questions to ask, about the corpus's first careers (for answers about none)."""
        index = self.retriever.index
        careers = [d for d in index.documents if self.is_career(d)]
        careers.sort(key=lambda d: (_number(index.documents[d].title), d))
        out = []
        for doc, kind in zip(careers, ("work", "pay"), strict=False):
            name = self.career_name(doc)
            out.append(ASPECTS[kind].follow_up.format(a=article(name), career=name))
        return [*out, self.prompts.render("fit_starter.j2")]

    # ------------------------------------------------------------ lookups

    def lines(self, chunk: Chunk) -> list[tuple[str, int]]:
        """The bold label and line of each sentence of a chunk (positions as in key_sentences)."""
        cached = self._lines.get(chunk.chunk_id)
        if cached is None:
            cached = [(s.label, s.line) for s in passage_sentences(chunk.text)]
            self._lines[chunk.chunk_id] = cached
        return cached

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        """The chunks of one document, in order (kept per index: a reload swaps it)."""
        index = self.retriever.index
        if self._by_doc[0] != id(index):
            by_doc: dict[str, list[Chunk]] = {}
            for chunk in index.chunks:
                by_doc.setdefault(chunk.doc_id, []).append(chunk)
            self._by_doc = (id(index), by_doc)
            self._kinds = {}
        return self._by_doc[1].get(doc_id, [])

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

    def names_other(self, label: str, hit: Hit, named: Sequence[str]) -> bool:
        """A label naming another career the question names ("To Full Stack Developer")."""
        found = {m.doc_id for m in self.retriever.careers.find(label)}
        return bool(found & set(named) - {hit.chunk.doc_id})

    def career_name(self, doc_id: str) -> str:
        """The career's name ("Data Engineer")."""
        return self.retriever.careers.names.get(doc_id, doc_id)


def transition_pair(
    query: Query, named: Sequence[str], kinds: Sequence[str]
) -> tuple[str | None, str | None] | None:
    """(source, target) careers of a question about switching careers, either unknown; None
    for a question that is not about a switch."""
    q = query.question
    if len(named) >= 2 and ("transition" in kinds or (_SELF_ROLE.search(q) and _BECOME.search(q))):
        return named[0], named[-1]
    if "transition" not in kinds:
        return None
    if not named:
        return None, None
    mention = query.careers[0]
    before = q[: mention.position]
    if _SELF_ROLE.search(before[-25:]) and not query.inherited:
        return named[0], None
    return None, named[0]


def trim(text: str, label: str, asked: set[str], limit: int) -> str:
    """A long sentence cut to its run of clauses that holds most of the question's words (the
    bold label kept), with "…" where text was left out."""
    if len(text) <= limit:
        return text
    start = len(label) + 1 if label and text.startswith(label) and text[len(label):][:1] == ":" else 0
    spans, depth, begin = [], 0, start
    for i, ch in enumerate(text):
        depth += ch == "("
        depth -= ch == ")" and depth > 0
        if depth == 0 and text[i : i + 2] in (", ", "; ") and i > begin:
            spans.append((begin, i))
            begin = i + 2
    spans.append((begin, len(text)))
    words = [asked & set(content_stems(text[a:b])) for a, b in spans]
    best = (-1, 0, 0)
    for i in range(len(spans)):
        found: set[str] = set()
        for j in range(i, len(spans)):
            if spans[j][1] - spans[i][0] > limit - start and j > i:
                break
            found |= words[j]
            if len(found) > best[0]:
                best = (len(found), i, j)
    _, i, j = best
    a, b = spans[i][0], spans[j][1]
    body = text[a:b].strip().rstrip(",;")
    lead_in = text[:start].strip() + " " if start else ""
    return (lead_in + ("… " if a > start else "") + body + ("…" if b < len(text) else "")).strip()


def _label_asked(label: str, asked: set[str]) -> bool:
    """A bold label whose words the question all uses ("To Cloud Engineer", "Game Jams")."""
    words = set(content_stems(label.split("(")[0])) - {"to"}
    return bool(words) and words <= asked


def _number(title: str) -> int:
    found = re.match(r"\s*(\d+)", title)
    return int(found.group(1)) if found else 10**6


def _headings(q: Quote) -> tuple[str, ...]:
    return (*q.hit.chunk.heading_path, q.label)
