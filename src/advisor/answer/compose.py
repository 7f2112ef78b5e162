"""Compose an answer from retrieved passages, without a model: the one or two sentences that
answer (the lead), other useful quotes (details), and follow-up questions.

The retriever's signals choose: a sentence's cosine to the question plus the question words it
holds (``Retriever.key_sentences``), its passage's rank in the hybrid (dense + BM25) list, and
whether its section is where the documents answer this kind of question (``kinds``).
Comparisons, transitions and "which career fits me" have their own shapes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

from advisor.answer import lines, shapes
from advisor.answer.aspects import ASPECTS
from advisor.answer.checks import named_things
from advisor.answer.compose_settings import ComposeSettings
from advisor.answer.kinds import (
    asks_duration,
    aspects_of,
    heading_match,
    is_compare,
    is_fit,
    kind_asked,
)
from advisor.answer.quotes import (
    ABOUT_GUIDE,
    LISTING,
    SIGNPOST,
    Composition,
    Quote,
    label_asked,
)
from advisor.answer.sections import MONEY, Sections
from advisor.llm import PromptLibrary
from advisor.retrieval import Query, Retriever
from advisor.text import content_stems
from advisor.types import Hit


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
        self.sections = Sections(retriever)

    # ------------------------------------------------------------ the shapes

    def compose(self, query: Query, hits: Sequence[Hit]) -> Composition:
        """The answer's parts for a question the documents cover."""
        s = self.settings
        named = list(dict.fromkeys(c.doc_id for c in query.careers))
        kinds = aspects_of(query.question)
        for turn in reversed(query.earlier if s.inherit_kind and not kinds else ()):
            # "is there one about Kubernetes?" after "which certifications ...?"
            kinds = aspects_of(turn)
            if kinds:
                break
        if not named and "work" in kinds:
            kinds.remove("work")  # "what does the git clone command do?" is no job description
        duration = asks_duration(query.question)
        if duration and not kinds:
            kinds.append("education")  # "how long to become one?": the path there, its studies
        if is_fit(query.question, len(named)):
            return self.finish(shapes.fit(self, query), query, kinds)
        pair = shapes.transition_pair(query, named, kinds)
        if pair is None and is_compare(query.question, named):
            return self.finish(shapes.compare(self, query, named[:2], kinds), query, kinds)
        if pair is not None:
            # What a switch takes, or where a career leads: two halves of the switching sections.
            needs = ASPECTS["switch_needs"].words.search(query.question)
            kinds.append("switch_needs" if needs else "switch_paths")
        pool = hits[: s.pool]
        if duration:
            # No passage gives a time; the sections on the path there come closest.
            pool = [h for h in pool if heading_match(h.chunk.heading_path, kinds)] or pool
        ranked = self.rank(query, pool, kinds, named)
        kind = kinds[0] if kinds else "general"
        if not ranked:
            return Composition(kind=kind, lead=())
        lead = self.lead(ranked, query.question)
        preface = ""
        if pair is not None:
            kind = "transition"
            source, target = pair
            item = shapes.switch_item(self, query, source, target, kinds[-1]) if source else []
            lead = shapes.carry_over(self, query, item or lead, source)
        elif kind == "pay":
            preface = shapes.pay_note(self, query, lead, named)
        elif duration:
            preface = shapes.duration_note(self, lead)
        details = tuple(self.details(ranked, lead))
        comp = Composition(kind=kind, lead=tuple(lead), preface=preface, details=details)
        return self.finish(comp, query, kinds)

    # ------------------------------------------------------------ sentences

    def rank(
        self, query: Query, hits: Sequence[Hit], kinds: Sequence[str], named: Sequence[str]
    ) -> list[Quote]:
        """Every quotable sentence of the passages, best answer first."""
        s = self.settings
        out: list[Quote] = []
        asked = set(content_stems(query.question))
        listing = bool(LISTING.search(query.question))
        about_guide = bool(ABOUT_GUIDE.search(query.question))
        for ks in self.retriever.key_sentences(query, [h.chunk for h in hits]):
            if not math.isfinite(ks.score):
                continue
            hit = hits[ks.passage]
            label, line = self.sections.lines(hit.chunk)[ks.position]
            score = ks.score - s.rank_weight * ks.passage
            where = (*hit.chunk.heading_path, label)
            matched = sum(heading_match(where, [k]) for k in kinds)
            if not matched and label and s.label_words:
                # Where no heading names a kind (an overview without the shared sections),
                # a label in the kind's own words does ("Possible career changes").
                matched = sum(kind_asked(label, k) for k in kinds)
            score += s.heading_weight * min(matched, s.heading_kinds)
            # Both label signals below need a named career; without one, no career lookup.
            in_label = self.sections.careers_in(label) if named else set()
            # A label naming every career a question pairs ("Backend Developers with Database
            # Administrators") is about them, as their own documents are.
            pair = len(named) >= 2 and set(named) <= in_label
            if hit.chunk.doc_id in named or (s.label_named and pair):
                score += s.named_weight
            if "pay" in kinds and MONEY.search(ks.text):
                score += s.figure_weight
            # A label naming another career the question names ("To Full Stack Developer").
            other = bool(in_label & set(named) - {hit.chunk.doc_id})
            if label and (label_asked(label, asked) or other):
                score += s.label_weight
            if listing or not s.specific_listing:
                # Things the question does not name ("Cloud Engineers" in a sentence for "what
                # certifications help a cloud engineer?" is its subject, not a certification).
                things = {n for n in named_things(ks.text) if not set(content_stems(n)) <= asked}
                score += s.specific_weight * min(3, len(things)) / 3
            if SIGNPOST.search(ks.text) and not about_guide:
                score -= s.signpost_weight
            out.append(Quote(hit, ks.text, ks.position, score, label, line))
        out.sort(key=lambda q: (-q.score, q.hit.rank, q.position))
        return out

    def lead(self, ranked: Sequence[Quote], question: str) -> list[Quote]:
        """The lead's lines under these settings (``lines.lead``)."""
        return lines.lead(ranked, question, self.settings)

    def line_of(self, best: Quote, ranked: Sequence[Quote], room: int,
                asked: set[str]) -> list[Quote]:
        """``best`` with its line's head and other sentences while they fit in ``room``."""
        return lines.line_of(best, ranked, room, asked, self.settings)

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
        if about:
            suggestions = self.sections.suggestions(about, covered, self.settings.suggestions)
        else:
            suggestions = self.starters()
        return replace(comp, lead=lead, details=details, hits=tuple(hits),
                       suggestions=tuple(suggestions))

    def subject(self, query: Query, lead: Sequence[Quote]) -> str | None:
        """The career an answer is about: the lead's document, else the one the question names."""
        for doc in [q.hit.chunk.doc_id for q in lead] + [c.doc_id for c in query.careers]:
            if self.sections.is_career(doc):
                return doc
        return None

    def starters(self) -> list[str]:
        """First questions to ask (for small talk and answers about no one career)."""
        return [*self.sections.starters(), self.prompts.render("fit_starter.j2")]


def _headings(q: Quote) -> tuple[str, ...]:
    return (*q.hit.chunk.heading_path, q.label)
