"""ChatService: question + history -> Answer with citations, whole or streamed.

Orchestration only: retrieve -> decide (refuse / small talk / answer) -> compose the lead and
details (``compose``) -> in generative mode add the model's plain sentence, streamed only once
the support check passes it (``writer``). Streamed tokens join to exactly ``Answer.text``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Literal

from advisor.answer.checks import check_question, is_injection, normalize_question
from advisor.answer.compose import Composer
from advisor.answer.compose_settings import ComposeSettings
from advisor.answer.kinds import interests, smalltalk
from advisor.answer.model import AnswerModel
from advisor.answer.quotes import Composition
from advisor.answer.shapes import transition_pair
from advisor.answer.writer import LeadWriter
from advisor.config import ChatSettings
from advisor.errors import GenerationError
from advisor.llm import Generator, PromptLibrary
from advisor.retrieval import Catalog, Query, Retriever, switches
from advisor.types import Answer, ChatEvent, Citation, Detail, Dropped, Hit, Turn

log = logging.getLogger(__name__)

Mode = Literal["generative", "extractive"]
MODEL_FAILED = "The language model could not answer just now, so this answer quotes the documents."


class ChatService:
    """Answers questions from the retriever's passages, with or without a language model."""

    def __init__(
        self,
        *,
        retriever: Retriever,
        prompts: PromptLibrary,
        generator: Generator | None = None,
        settings: ChatSettings | None = None,
        compose: ComposeSettings | None = None,
        model: AnswerModel | None = None,
    ) -> None:
        self.retriever = retriever
        self.prompts = prompts
        self.generator = generator
        self.settings = settings or ChatSettings()
        self.catalog = Catalog(retriever)
        self.composer = Composer(retriever=retriever, prompts=prompts, settings=compose,
                                 model=model)
        self.writer = None if generator is None else LeadWriter(
            generator=generator, prompts=prompts, settings=self.settings.writer,
            verbs=self.composer.sections.verbs)

    @property
    def model(self) -> AnswerModel:
        """The learned kind model, follow-up model and sentence ranker."""
        return self.composer.model

    def replaced(self, *, retriever: Retriever | None = None, model: AnswerModel | None = None,
                 compose: ComposeSettings | None = None) -> ChatService:
        """The same service (prompts, model, settings) with the parts given in place of its
        own: another index's retriever (a hot reload), another answer model (a CV fold), other
        compose settings (a sweep)."""
        return ChatService(retriever=retriever or self.retriever, prompts=self.prompts,
                           generator=self.generator, settings=self.settings,
                           compose=compose or self.composer.settings, model=model or self.model)

    def retrieve(self, question: str, history: Sequence[str] = (), *,
                 follows: bool | None = None) -> tuple[Query, list[Hit]]:
        """The standalone query and its passages. A turn that names no career after others
        follows the conversation when the follow-up model says so, or when the documents do not
        cover it alone (``follows`` decides instead when given); it is then about the career
        the previous answer was about. A turn that names two careers and speaks of a move is
        searched as a switch between them when the kind model says it asks about one ("do I
        need to be a programmer to become a technical writer?" asks about the writer's
        skills)."""
        named = self.retriever.careers.find(question)
        switch = None
        if len(named) > 1 and switches(question):
            kinds = self.model.kinds.probabilities(question, self.composer.signals.vector(question))
            switch = kinds.get("transition", 0.0) >= self.composer.settings.kind_threshold
        if history and follows is None and not named:
            # A turn the documents do not cover alone cannot start a new subject: it would be
            # refused ("should I hold out for a higher salary?" after a career's pay).
            vector = self.composer.signals.vector(question)
            coverage = self.retriever.similarity(question, vector)
            kinds = self.model.kinds.probabilities(question, vector)
            follows = (coverage < self.settings.refusal_threshold
                       or self.model.follow_up.probability(question, coverage, kinds) >= 0.5)
        subject = self.subject_of(history) if history and follows else None
        k = max(self.settings.top_k, self.composer.settings.pool)
        return self.retriever.search(question, k=k, history=history, follows=follows,
                                     subject=subject, switch=switch)

    def subject_of(self, turns: Sequence[str]) -> str | None:
        """The career the answer to the last of these turns was about: the target of a switch
        it asks about, else the first career it names (or its conversation had named), else
        the career of the passage that answered it best."""
        query = self.retriever.condense(turns[-1], turns[:-1])
        named = list(dict.fromkeys(c.doc_id for c in query.careers))
        if named:
            pair = transition_pair(query, named, ["transition"] if switches(turns[-1]) else [])
            target = (pair[1] or pair[0]) if pair else None
            return target or named[0]
        _, hits = self.retriever.search(query.question, k=1)
        sections = self.composer.sections
        return next((h.chunk.doc_id for h in hits if sections.is_career(h.chunk.doc_id)), None)

    def ask(self, question: str, history: Sequence[Turn] = (), *, mode: Mode | None = None,
            ) -> Answer:
        """The whole answer at once."""
        answer: Answer | None = None
        for event in self.stream(question, history, mode=mode):
            if event.kind == "done":
                answer = event.answer
        assert answer is not None  # stream always ends with done
        return answer

    def stream(
        self, question: str, history: Sequence[Turn] = (), *, mode: Mode | None = None
    ) -> Iterator[ChatEvent]:
        """Events: ``sources``, then ``token``s that join to the answer's text, then ``done``
        (an ``error`` with a plain message when the model fails and the quotes stand alone).

        Raises ``InputError`` for an empty question and ``BusyError`` when the model's queue
        is full, both before the first event, so a server can answer 422 / 503.
        """
        started = time.perf_counter()
        mode = mode or self.settings.mode
        question, notices = check_question(question, self.settings.max_question_chars)
        base = Answer(question=question, text="", citations=(), hits=(), refused=False,
                      mode=mode, query=question, notices=tuple(notices))
        chat = smalltalk(question) if not is_injection(question) else None
        if chat is not None:
            careers = [self.composer.sections.name(d) for d in self.composer.sections.careers()]
            text = self.prompts.render("smalltalk.j2", kind=chat, count=len(careers),
                                       careers=careers[:3])
            done = replace(base, kind="smalltalk", suggestions=tuple(self.composer.starters()))
            yield from self._plain(done, text, started)
            return
        user_turns = [normalize_question(t.content) for t in history if t.role == "user"]
        query, hits = self.retrieve(question, user_turns)
        base = replace(base, hits=tuple(hits), query=query.text,
                       timings={"retrieval_ms": _ms(started)})
        refusal = self._refusal(question, query, hits)
        comp = self.composer.compose(query, hits) if refusal is None else None
        if comp is None or not comp.lead:
            text = refusal or self.prompts.render("refusal.j2", careers=[])
            yield from self._plain(replace(base, refused=True, kind="refusal"), text, started)
            return
        yield from self._answer(base, query, comp, started)

    def citation(self, number: int, hit: Hit) -> Citation:
        """A citation for a passage shown under ``number``."""
        return self.catalog.citation(number, hit)

    def coverage(self, query: Query) -> float:
        """How well the documents cover a question: its best cosine similarity to them."""
        return self.retriever.similarity(query.text, query.vector)

    def _refusal(self, question: str, query: Query, hits: Sequence[Hit]) -> str | None:
        """A reply that needs no passages: prompt injection, or a question the documents miss."""
        if is_injection(question):
            return self.prompts.render("injection.j2")
        s = self.settings
        # A question that names a career of the corpus, or asks which one fits, is about the
        # corpus's careers: it needs less similarity to count as covered ("I love cooking" 0.31,
        # dev fit cases 0.48-0.67 for what the student enjoys).
        fit = self.composer.asks_fit(query)
        threshold = s.refusal_threshold_named if query.careers or fit else s.refusal_threshold
        if fit:
            query = replace(query, text=interests(question), vector=None)
        if self.coverage(query) >= threshold:
            return None
        sections = self.composer.sections
        names = [sections.name(h.chunk.doc_id) for h in hits if sections.is_career(h.chunk.doc_id)]
        return self.prompts.render("refusal.j2", careers=list(dict.fromkeys(names))[:3])

    def _plain(self, answer: Answer, text: str, started: float) -> Iterator[ChatEvent]:
        first = _ms(started)
        yield ChatEvent("token", text=text)
        timings = {**answer.timings, "first_token_ms": first, "total_ms": _ms(started)}
        yield ChatEvent("done", answer=replace(answer, text=text, timings=timings))

    def _answer(
        self, base: Answer, query: Query, comp: Composition, started: float
    ) -> Iterator[ChatEvent]:
        notices = list(base.notices)
        lead = self.prompts.render("lead.j2", preface=comp.preface, note=comp.note,
                                   quotes=comp.lead, listed=comp.listed)
        mode = base.mode
        if mode == "generative" and self.writer is None:
            notices.append("no language model is configured: the answer quotes the documents")
            mode = "extractive"
        writer = self.writer if mode == "generative" and not comp.listed else None
        # Admission happens here: BusyError leaves before the first event.
        pieces = writer.open(query.question, comp.lead) if writer else None
        citations = tuple(self.citation(i, h) for i, h in enumerate(comp.hits, 1))
        yield ChatEvent("sources", citations=citations)
        shown: list[str] = []
        first: list[float] = []
        kept: list[str] = []
        dropped: list[Dropped] = []

        def show(text: str) -> ChatEvent:
            piece = (" " if shown else "") + text
            shown.append(piece)
            first.append(_ms(started))
            return ChatEvent("token", text=piece)

        if pieces is None or not self.settings.model_first:
            yield show(lead)
        if writer is not None and pieces is not None:
            try:
                for text, drop in writer.checked(pieces, query.question, comp.lead):
                    dropped += [drop] if drop else []
                    if text is not None:
                        kept.append(text)
                        yield show(text)
            except GenerationError as exc:
                log.warning("model lead failed, answering from the quotes: %s", exc)
                yield ChatEvent("error", text=MODEL_FAILED)
                notices.append(MODEL_FAILED)
                mode = "extractive"
            if self.settings.model_first:
                yield show(lead)
        total = _ms(started)
        timings = {**base.timings, "first_token_ms": first[0] if first else total,
                   "total_ms": total}
        details = tuple(Detail(q.text, q.number) for q in comp.details)
        yield ChatEvent("done", answer=replace(
            base, text="".join(shown), mode=mode, kind=comp.kind, lead=lead, citations=citations,
            details=details, careers=comp.careers, suggestions=comp.suggestions,
            model_sentences=tuple(kept), dropped=tuple(dropped), notices=tuple(notices),
            timings=timings))


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
