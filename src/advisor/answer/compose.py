"""Compose an answer from retrieved passages, without a language model: the sentences that
answer (the lead), other useful quotes (details), and follow-up questions.

Learned, not hand-set (``model.AnswerModel``): the kind model reads which kinds of question a
question asks (pay, skills, "which career fits me", ...), and the sentence ranker scores every
sentence of the passages on its signals (``features``). The lead is the best sentences by that
score that fit in its length (``lines.lead``). Comparisons, transitions and "which career fits
me" have their own shapes (``shapes``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace

from advisor.answer import lines, shapes
from advisor.answer.aspects import ASPECTS, PRIORITY
from advisor.answer.compose_settings import ComposeSettings
from advisor.answer.features import Signals
from advisor.answer.kinds import asks_duration, heading_match, is_compare
from advisor.answer.model import FIT, AnswerModel, kind_probabilities, load_model
from advisor.answer.quotes import Composition, Quote
from advisor.answer.sections import Sections
from advisor.llm import PromptLibrary
from advisor.retrieval import Query, Retriever
from advisor.types import Hit


class Composer:
    """Chooses the sentences of an answer from the retriever's passages."""

    def __init__(
        self,
        *,
        retriever: Retriever,
        prompts: PromptLibrary,
        settings: ComposeSettings | None = None,
        model: AnswerModel | None = None,
    ) -> None:
        self.retriever = retriever
        self.prompts = prompts
        self.settings = settings or ComposeSettings()
        self.sections = Sections(retriever)
        self._model = model
        self.signals = Signals(retriever, self.sections)

    @property
    def model(self) -> AnswerModel:
        """The answer model: the one given, else the package's (read at first use, so that
        training a new one needs none)."""
        if self._model is None:
            self._model = load_model()
        return self._model

    # ------------------------------------------------------------ the kinds of question

    def kinds_of(self, query: Query) -> dict[str, float]:
        """Each kind's probability (the kind model); a follow-up that asks no kind of its own
        asks the kind of the turn before ("is there one about Kubernetes?" after "which
        certifications ...?")."""
        before = query.earlier[-1] if self.settings.inherit_kind and query.earlier else None
        signals = self.signals
        return kind_probabilities(self.model.kinds, query.question, signals.question_vector(query),
                                  before, signals.vector(before) if before else None,
                                  self.settings.kind_threshold)

    def asked(self, kinds: Mapping[str, float]) -> list[str]:
        """The kinds a question asks, most likely first (those of ``PRIORITY`` that reach
        ``kind_threshold``)."""
        sure = [k for k in PRIORITY if kinds.get(k, 0.0) >= self.settings.kind_threshold]
        return sorted(sure, key=lambda k: -kinds[k])

    def asks_fit(self, query: Query) -> bool:
        """A student describing themselves and asking which career would suit them."""
        return self.kinds_of(query).get(FIT, 0.0) >= self.settings.kind_threshold

    # ------------------------------------------------------------ the shapes

    def compose(self, query: Query, hits: Sequence[Hit]) -> Composition:
        """The answer's parts for a question the documents cover."""
        s = self.settings
        named = list(dict.fromkeys(c.doc_id for c in query.careers))
        probabilities = self.kinds_of(query)
        kinds = self.asked(probabilities)
        duration = asks_duration(query.question)
        if duration and not kinds:
            kinds.append("education")  # "how long to become one?": the path there, its studies
        if not query.inherited and probabilities.get(FIT, 0.0) >= s.kind_threshold:
            # (In a conversation about a career, "which move would suit me?" asks among that
            # career's paths, not which career fits.)
            return self.finish(shapes.fit(self, query), query, kinds)
        pair = shapes.transition_pair(query, named, kinds)
        if pair is None and is_compare(query.question, named):
            return self.finish(shapes.compare(self, query, named[:2], kinds), query, kinds)
        if pair is not None:
            # What a switch takes, or where a career leads: two halves of the switching sections.
            needs = probabilities["switch_needs"] >= probabilities["switch_paths"]
            kinds.append("switch_needs" if needs else "switch_paths")
        pool = hits[: s.pool]
        if duration:
            # No passage gives a time; the sections on the path there come closest.
            pool = [h for h in pool if heading_match(h.chunk.heading_path, kinds)] or pool
        ranked = self.rank(query, pool, probabilities, named)
        kind = kinds[0] if kinds else "general"
        if not ranked:
            return Composition(kind=kind, lead=())
        lead = self.lead(ranked, query.question)
        note = ""
        if pair is not None:
            kind = "transition"
            source, target = pair
            item = shapes.switch_item(self, query, source, target, kinds[-1]) if source else []
            lead = shapes.carry_over(self, query, item or lead, source)
        elif "pay" in kinds:
            lead, note = shapes.pay_note(self, query, lead, named)
        elif duration:
            lead, note = shapes.duration_note(self, query, lead, named)
        details = tuple(self.details(ranked, lead))
        comp = Composition(kind=kind, lead=tuple(lead), note=note, details=details)
        return self.finish(comp, query, kinds)

    # ------------------------------------------------------------ sentences

    def rank(self, query: Query, hits: Sequence[Hit], kinds: Mapping[str, float] | Sequence[str],
             named: Sequence[str]) -> list[Quote]:
        """Every quotable sentence of the passages, best answer first: the sentence ranker's
        score (0..1) under the question's kind probabilities (a shape that knows the kind it
        wants gives the kinds themselves)."""
        wanted = kinds if isinstance(kinds, Mapping) else dict.fromkeys(kinds, 1.0)
        candidates = self.signals.candidates(query, hits, named)
        scores = self.model.rank(candidates, wanted)
        out = [replace(q, score=round(float(v), 6))
               for q, v in zip(candidates.quotes, scores, strict=True)]
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
