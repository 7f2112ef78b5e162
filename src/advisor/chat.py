"""ChatService: question + history -> Answer with citations (streamed or whole).

Pipeline: retrieve (conversation-aware) -> refuse if the documents do not cover it ->
quote the key sentences of the best passages -> let the model write a short answer around
them (generative mode) -> keep only citation markers that point to a passage shown.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

from advisor.chunking import SENTENCE_BREAK, plain_text, sentences
from advisor.errors import BusyError, GenerationError, InputError
from advisor.generator import Generator
from advisor.prompts import PromptLibrary
from advisor.retriever import Query, Retriever
from advisor.types import Answer, Citation, Hit, Turn

log = logging.getLogger(__name__)

Mode = Literal["generative", "extractive"]
_CITATION = re.compile(r"\[(\d{1,3})\]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_INJECTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instructions?|prompts?|rules|guidelines)\b"
    r"|\bsystem prompt\b|\b(reveal|show|print|repeat|leak)\b.{0,30}\b(instructions?|prompt)\b"
    r"|\byou are now\b|\bdeveloper mode\b|\bjailbreak",
    re.I | re.S,
)
_STOP = ("<|im_end|>", "<|im_start|>", "\nPassages:", "\nQuestion:", "\n\n\n")


@dataclass(frozen=True)
class ChatSettings:
    """Limits and behaviour of the chat service."""

    mode: Mode = "generative"
    top_k: int = 5
    passages_shown: int = 3
    extractive_sentences: int = 6
    quote_sentences: int = 6
    prompt_sentences: int = 3
    refusal_threshold: float = 0.5
    refusal_threshold_named: float = 0.35
    grounding_threshold: float = 0.5
    max_answer_tokens: int = 96
    prompt_budget: int = 640
    question_tokens: int = 160
    generation_timeout: float = 30.0
    max_question_chars: int = 2000


@dataclass(frozen=True)
class ChatEvent:
    """One step of a streamed answer: sources, token, done or error."""

    kind: Literal["sources", "token", "done", "error"]
    text: str = ""
    citations: tuple[Citation, ...] = ()
    answer: Answer | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Quote:
    """A key sentence of a passage and the passage's number."""

    number: int
    text: str


class CitationFilter:
    """Streams text through, dropping ``[n]`` markers that point to no passage shown."""

    def __init__(self, n_passages: int) -> None:
        self.n = n_passages
        self._pending = ""

    def feed(self, piece: str) -> str:
        """Text that is safe to show now; an open ``[`` is held back until it closes."""
        text = self._pending + piece
        cut = text.rfind("[")
        if cut != -1 and "]" not in text[cut:] and len(text) - cut <= 5:
            self._pending, text = text[cut:], text[:cut]
        else:
            self._pending = ""
        return self.clean(text)

    def flush(self) -> str:
        """Whatever was held back."""
        text, self._pending = self._pending, ""
        return self.clean(text)

    def clean(self, text: str) -> str:
        """Remove markers outside 1..n."""
        return _CITATION.sub(lambda m: m.group(0) if 1 <= int(m.group(1)) <= self.n else "", text)


def clean_citations(text: str, n_passages: int) -> str:
    """The text without citation markers that point to no passage shown."""
    cleaned = CitationFilter(n_passages).clean(text)
    return re.sub(r"[ \t]+([.,;:!?])", r"\1", re.sub(r"[ \t]{2,}", " ", cleaned)).strip()


def cited_numbers(text: str) -> list[int]:
    """Citation numbers in order of first use."""
    seen: list[int] = []
    for m in _CITATION.finditer(text):
        n = int(m.group(1))
        if n not in seen:
            seen.append(n)
    return seen


_NUMBER = re.compile(r"\d[\d,.]*\d|\d")


def drop_unsupported_numbers(text: str, passages: str) -> str:
    """Drop sentences whose figures appear in no passage shown: a small model invents them."""
    known = {n.replace(",", "") for n in _NUMBER.findall(passages)}
    kept = [
        sent
        for sent in SENTENCE_BREAK.split(text)
        if all(n.replace(",", "") in known for n in _NUMBER.findall(_CITATION.sub("", sent)))
    ]
    return " ".join(kept).strip()


def tidy_model_text(text: str, query: Query) -> str:
    """Whole sentences only (a cut-off tail goes), and none that merely repeats the question."""
    text = text.strip()
    if text and text[-1] not in ".!?]\"')":
        cut = max(text.rfind(". "), text.rfind("! "), text.rfind("? "))
        text = text[: cut + 1] if cut > 0 else ""
    asked = set(re.findall(r"\w+", query.text.lower()))
    kept = []
    for sent in SENTENCE_BREAK.split(text):
        words = set(re.findall(r"\w+", _CITATION.sub("", sent).lower()))
        if words and len(words - asked) > 2:
            kept.append(sent)
    return " ".join(kept).strip()


def normalize_question(question: str) -> str:
    """Control characters out, whitespace folded."""
    return re.sub(r"\s+", " ", _CONTROL.sub(" ", question)).strip()


class ChatService:
    """Answers questions from the retriever's passages, with or without a language model."""

    def __init__(
        self,
        *,
        retriever: Retriever,
        prompts: PromptLibrary,
        generator: Generator | None = None,
        settings: ChatSettings | None = None,
    ) -> None:
        self.retriever = retriever
        self.prompts = prompts
        self.generator = generator
        self.settings = settings or ChatSettings()
        self._leak_probes = _leak_probes(prompts.source("system.j2"))

    # ------------------------------------------------------------ public

    def ask(
        self, question: str, history: Sequence[Turn] = (), *, mode: Mode | None = None
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
        """Events: ``sources`` first, then ``token``s, then ``done`` (``error`` before a fallback).

        Raises ``InputError`` for an empty question and ``BusyError`` when the model's queue
        is full, both before the first event, so a server can answer 422 / 503.
        """
        started = time.perf_counter()
        mode = mode or self.settings.mode
        question, notices = self._check(question)
        user_turns = [normalize_question(t.content) for t in history if t.role == "user"]
        query, hits = self.retriever.search(question, k=self.settings.top_k, history=user_turns)
        timings = {"retrieval_ms": _ms(started)}
        shown = hits[: self.settings.passages_shown]
        base = Answer(
            question=question,
            text="",
            citations=(),
            hits=tuple(hits),
            refused=False,
            mode=mode,
            query=query.text,
            timings=timings,
            notices=tuple(notices),
        )
        fixed = self._fixed_reply(question, query, hits)
        if fixed is not None:
            text, refused = fixed
            yield from self._finish_plain(base, text, (), started, refused=refused)
            return
        citations = tuple(self.citation(i, h) for i, h in enumerate(shown, 1))
        if mode == "extractive" or self.generator is None:
            if mode != "extractive":
                notices.append("no language model is configured: showing the passages instead")
            quotes = self.quotes(query, shown, limit=self.settings.extractive_sentences)
            text = self.prompts.render("extractive.j2", quotes=quotes)
            yield ChatEvent("sources", citations=citations)
            yield from self._finish_plain(
                replace(base, mode="extractive", notices=tuple(notices)), text, citations, started
            )
            return
        yield from self._generate(base, query, shown, citations, started)

    def citation(self, number: int, hit: Hit) -> Citation:
        """A citation for a passage shown under ``number``."""
        c = hit.chunk
        doc = self.retriever.index.documents.get(c.doc_id)
        url = doc.url if doc else None
        if url and c.anchor:
            url = f"{url}#{c.anchor}"
        return Citation(
            number=number,
            chunk_id=c.chunk_id,
            doc_id=c.doc_id,
            title=c.title,
            heading_path=c.heading_path,
            url=url,
            text=c.text,
            start=c.start,
            end=c.end,
        )

    def quotes(
        self, query: Query, hits: Sequence[Hit], *, limit: int, cap: int = 3, lead: int = 3
    ) -> list[Quote]:
        """Key sentences of the passages, in passage order: the ``lead`` of passage 1 closest
        to the question first (the best passage most often holds the fact asked for), then the
        closest of all up to ``limit``, at most ``cap`` from one passage (lead-ins to a list
        and link-only lines only when nothing else is there)."""
        pool = self.retriever.key_sentences(query, [h.chunk for h in hits])
        candidates = [s for s in pool if np.isfinite(s.score)]
        order = sorted(candidates, key=lambda s: (-s.score, s.passage, s.position))
        chosen = [s for s in order if s.passage == 0][: min(lead, cap, limit)]
        taken = {0: len(chosen)}
        for sent in order:
            if len(chosen) >= limit:
                break
            if sent in chosen or taken.get(sent.passage, 0) >= cap:
                continue
            chosen.append(sent)
            taken[sent.passage] = taken.get(sent.passage, 0) + 1
        chosen.sort(key=lambda s: (s.passage, s.position))
        return [Quote(s.passage + 1, s.text) for s in chosen]

    # ------------------------------------------------------------ steps

    def _check(self, question: str) -> tuple[str, list[str]]:
        if not isinstance(question, str):
            raise InputError("the question must be text")
        question = normalize_question(question)
        if not question:
            raise InputError("the question is empty: ask something about a career")
        notices: list[str] = []
        limit = self.settings.max_question_chars
        if len(question) > limit:
            question = question[:limit].rsplit(" ", 1)[0]
            notices.append(f"your question was cut to its first {len(question)} characters")
        return question, notices

    def _fixed_reply(
        self, question: str, query: Query, hits: Sequence[Hit]
    ) -> tuple[str, bool] | None:
        """A reply that needs no model: prompt injection, or a question the documents miss."""
        if _INJECTION.search(question):
            return self.prompts.render("injection.j2"), True
        coverage = self.coverage(query)
        # A question that names a career of the corpus needs less similarity to count as covered.
        threshold = (
            self.settings.refusal_threshold_named
            if query.careers
            else self.settings.refusal_threshold
        )
        if coverage < threshold:
            names: list[str] = []
            for h in hits:
                name = self.retriever.careers.names.get(h.chunk.doc_id, h.chunk.title)
                if name not in names and self.retriever.careers.is_career(h.chunk.doc_id):
                    names.append(name)
            return self.prompts.render("refusal.j2", careers=names[:3]), True
        return None

    def coverage(self, query: Query) -> float:
        """How well the documents cover a question: its best cosine similarity to them."""
        return self.retriever.similarity(query.text, query.vector)

    def _finish_plain(
        self,
        base: Answer,
        text: str,
        citations: tuple[Citation, ...],
        started: float,
        *,
        refused: bool = False,
    ) -> Iterator[ChatEvent]:
        first = _ms(started)
        yield ChatEvent("token", text=text)
        used = set(cited_numbers(text))
        answer = replace(
            base,
            text=text,
            refused=refused,
            citations=tuple(c for c in citations if c.number in used),
            timings={**base.timings, "first_token_ms": first, "total_ms": _ms(started)},
        )
        yield ChatEvent("done", answer=answer)

    def _messages(
        self, query: Query, hits: Sequence[Hit], notices: list[str]
    ) -> list[dict[str, str]]:
        """System prompt with as many passages as the budget holds, and the question."""
        assert self.generator is not None
        count = self.generator.count_tokens
        s = self.settings
        question = query.question
        if count(question) > s.question_tokens:
            words = question.split()
            while words and count(" ".join(words)) > s.question_tokens:
                words = words[: int(len(words) * 0.8)]
            question = " ".join(words)
            notices.append("your question was shortened to fit the model")
        careers = [c.name for c in query.careers] if query.inherited else []
        user = self.prompts.render("question.j2", question=question, careers=careers, notice="")
        budget = min(s.prompt_budget, self.generator.context_size - s.max_answer_tokens)
        room = budget - count(user)
        shown = list(hits)
        # A tiny model reads slowly and loses the thread in long prompts: each passage is
        # given by its sentences closest to the question (the citation keeps the whole one).
        texts = [self._gist(query, h) for h in shown]
        while True:
            passages = [
                {"heading": h.chunk.heading, "text": text}
                for h, text in zip(shown, texts, strict=False)
            ]
            system = self.prompts.render("system.j2", passages=passages)
            if count(system) <= room or not shown:
                break
            shown.pop()  # the lowest-ranked passage goes first; the instructions never do
        if len(shown) < len(hits):
            log.info("prompt budget kept %d of %d passages", len(shown), len(hits))
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]

    def _gist(self, query: Query, hit: Hit) -> str:
        """The passage's sentences closest to the question, in their order."""
        picked = self.quotes(query, [hit], limit=self.settings.prompt_sentences, cap=10**6)
        return " ".join(q.text for q in picked) or plain_text(hit.chunk.text)

    def _generate(
        self,
        base: Answer,
        query: Query,
        shown: Sequence[Hit],
        citations: tuple[Citation, ...],
        started: float,
    ) -> Iterator[ChatEvent]:
        assert self.generator is not None
        s = self.settings
        notices = list(base.notices)
        messages = self._messages(query, shown, notices)
        n_shown = messages[0]["content"].count("\n[") + 1 if shown else 0
        n_shown = min(n_shown, len(shown))
        quotes = self.quotes(query, shown, limit=self.settings.quote_sentences)
        # Admission happens here: BusyError leaves before the first event.
        pieces = self.generator.stream(
            messages, max_tokens=s.max_answer_tokens, stop=_STOP, timeout=s.generation_timeout
        )
        yield ChatEvent("sources", citations=citations)
        filt = CitationFilter(n_shown)
        parts: list[str] = []
        first: float | None = None
        try:
            try:
                for piece in pieces:
                    out = filt.feed(piece)
                    parts.append(out)
                    if out:
                        first = first if first is not None else _ms(started)
                        yield ChatEvent("token", text=out)
                parts.append(filt.flush())
            finally:
                close = getattr(pieces, "close", None)
                if close:
                    close()
        except BusyError:
            raise
        except GenerationError as exc:
            yield ChatEvent("error", text=f"{exc}; showing the passages instead")
            notices.append(f"the language model failed ({exc}): showing the passages instead")
            quotes = self.quotes(query, shown, limit=s.extractive_sentences)
            text = self.prompts.render("extractive.j2", quotes=quotes)
            yield ChatEvent("token", text=("\n\n" if parts else "") + text)
            yield from self._done(base, text, citations, started, first, notices, "extractive")
            return
        model_text = tidy_model_text(clean_citations("".join(parts), n_shown), query)
        model_text = drop_unsupported_numbers(
            model_text, " ".join(plain_text(h.chunk.text) for h in shown[:n_shown])
        )
        model_text = self.grounded(model_text, shown[:n_shown])
        if self._leaks(model_text):
            model_text = self.prompts.render("injection.j2")
        if model_text and not cited_numbers(model_text):
            model_text += " [1]"
        text = self.prompts.render("quote.j2", answer=model_text, quotes=quotes)
        tail = text[len(model_text) :] if text.startswith(model_text) else "\n\n" + text
        if tail:
            first = first if first is not None else _ms(started)
            yield ChatEvent("token", text=tail)
        yield from self._done(base, text, citations, started, first, notices, "generative")

    def grounded(self, text: str, hits: Sequence[Hit]) -> str:
        """The model's sentences that resemble some sentence of the passages it was shown
        (cosine >= ``grounding_threshold``); the rest go. Measured on 93 SmolLM2 sentences
        from dev answers: 22% fall under 0.5, nearly all off the documents ("It's also known as
        XS or VSCO") or contradicting them ("No, it's not a step down")."""
        threshold = self.settings.grounding_threshold
        said = [part for part in SENTENCE_BREAK.split(text) if part.strip()]
        passages = [sent for h in hits for sent in sentences(h.chunk.text)]
        if not threshold or not said or not passages:
            return text
        embed = self.retriever.embedder.embed
        mine = embed([_CITATION.sub("", part).strip() or part for part in said])
        support = (mine @ embed(passages).T).max(axis=1)
        return " ".join(p for p, v in zip(said, support, strict=True) if v >= threshold).strip()

    def _done(
        self,
        base: Answer,
        text: str,
        citations: tuple[Citation, ...],
        started: float,
        first: float | None,
        notices: list[str],
        mode: str,
    ) -> Iterator[ChatEvent]:
        used = set(cited_numbers(text))
        total = _ms(started)
        answer = replace(
            base,
            text=text,
            mode=mode,
            notices=tuple(notices),
            citations=tuple(c for c in citations if c.number in used),
            timings={
                **base.timings,
                "first_token_ms": first if first else total,
                "total_ms": total,
            },
        )
        yield ChatEvent("done", answer=answer)

    def _leaks(self, text: str) -> bool:
        low = " ".join(text.lower().split())
        return any(probe in low for probe in self._leak_probes)


def _leak_probes(system_template: str) -> list[str]:
    """Runs of six words of the system prompt's fixed text: an answer must not contain them."""
    fixed = re.sub(r"\{[{%#].*?[}%#]\}", " ", system_template, flags=re.S)
    words = fixed.lower().split()
    return [" ".join(words[i : i + 6]) for i in range(0, max(0, len(words) - 5), 3)]


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
