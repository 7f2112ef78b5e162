"""Answers with a shape of their own: a comparison of two careers, a switch from one career to
another, pay (and the place it is for), and "which career fits me"."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Protocol

from advisor.answer.aspects import ASPECTS
from advisor.answer.compose_settings import ComposeSettings
from advisor.answer.kinds import SPAN, heading_match, interests, places_in, under
from advisor.answer.quotes import Composition, Quote, label_share
from advisor.answer.sections import MONEY, Sections
from advisor.llm import PromptLibrary
from advisor.retrieval import Query, Retriever
from advisor.text import content_stems
from advisor.types import Hit


class Composing(Protocol):
    """What a shape asks of the composer that calls it (``compose.Composer``): its parts and
    its choice of sentences. A protocol, so that the shapes do not import the composer."""

    retriever: Retriever
    prompts: PromptLibrary
    settings: ComposeSettings
    sections: Sections

    def rank(self, query: Query, hits: Sequence[Hit], kinds: Mapping[str, float] | Sequence[str],
             named: Sequence[str]) -> list[Quote]:
        """Every quotable sentence of the passages, best answer first."""
        ...

    def line_of(self, best: Quote, ranked: Sequence[Quote], room: int,
                asked: set[str]) -> list[Quote]:
        """``best`` with its line's head and other sentences while they fit in ``room``."""
        ...

    def details(self, ranked: Sequence[Quote], lead: Sequence[Quote]) -> list[Quote]:
        """Other useful sentences, best first, a few per passage."""
        ...


_SELF_ROLE = re.compile(r"\bi(?:'m| am) (?:an? |in )|\bi work (?:as|in|on)\b|\bas an? |\bfrom\b",
                        re.I)
_MOVES = re.compile(r"s?\s+(?:\w+\s+)?(?:becom|switch|transition|pivot|retrain|mov\w+ (?:in)?to\b)",
                    re.I)
#: Sections that describe other careers or reading, not what this job is like.
NOT_ABOUT_THE_JOB = ("switching careers", "transition", "transferable", "future reading", "prompts")


def transition_pair(
    query: Query, named: Sequence[str], kinds: Sequence[str]
) -> tuple[str | None, str | None] | None:
    """(source, target) careers of a question about switching careers (the kind model says
    so), either unknown; None for a question that is not about a switch."""
    if "transition" not in kinds:
        return None
    q = query.question
    if len(named) >= 2:
        return named[0], named[-1]
    if not named:
        return None, None
    first = query.careers[0]
    at = first.position
    # The source is the career the student is ("I'm a ...") or the one that moves ("can a
    # support engineer become ..."); else the one named is where the switch leads.
    moves = _MOVES.match(q[at + len(first.alias):])
    own = bool(_SELF_ROLE.search(q[:at][-25:]) or moves) and not query.inherited
    return (named[0], None) if own else (None, named[0])


def compare(composer: Composing, query: Query, docs: Sequence[str],
            kinds: Sequence[str]) -> Composition:
    """The same aspect of two careers, each from its own document."""
    aspect = [k for k in kinds if k != "transition"] or ["work"]
    lead: list[Quote] = []
    details: list[Quote] = []
    for doc in docs:
        # The aspect's own sections of each career first ("What's the difference between A
        # and B?" compares their definitions), else what the retriever finds in its document.
        own = [c for c in composer.sections.chunks_of(doc) if heading_match(c.heading_path, aspect)]
        hits = [Hit(c, 0.0, i) for i, c in enumerate(own[: composer.settings.pool], 1)]
        if not hits:
            _, hits = composer.retriever.search(query.question, k=composer.settings.pool,
                                                doc_ids=[doc])
        ranked = composer.rank(query, hits, aspect, [doc])
        if ranked:
            lead.append(replace(ranked[0], name=composer.sections.name(doc)))
            details += composer.details(ranked, lead[-1:])[:2]
    return Composition(kind="compare", lead=tuple(lead), details=tuple(details))


def switch_item(composer: Composing, query: Query, source: str, target: str | None,
                kind: str) -> list[Quote]:
    """The item of the source career's switching sections about the target ("To Full Stack
    Developer: Learn frontend ..." for what a switch takes, "Full Stack Developer (Expand to
    Frontend): ..." for the path; an item without a label by its words): its line, or [] when
    no item names the target. A target the corpus does not describe counts as named when most
    words of the item's label are asked."""
    chunks = [c for c in composer.sections.chunks_of(source)
              if under(c.heading_path, ASPECTS[kind].headings)]
    hits = [Hit(c, 0.0, i) for i, c in enumerate(chunks, 1)]
    ranked = composer.rank(query, hits, [kind], [target] if target else [])
    asked = set(content_stems(query.question)) - set(content_stems(composer.sections.name(source)))
    for quote in ranked:
        if target is not None:
            # An item without a label names the target in its words ("AWS Certified DevOps
            # Engineer" in a list of what each switch takes).
            named = {m.doc_id for m in composer.retriever.careers.find(quote.label or quote.text)}
            if target not in named:
                continue
        elif not quote.label or label_share(quote.label, asked) < 0.5:
            continue
        return composer.line_of(quote, ranked, composer.settings.line_chars,
                                set(content_stems(query.question)))
    return []


def carry_over(composer: Composing, query: Query, lead: list[Quote],
               source: str | None) -> list[Quote]:
    """A transition: the target's requirements (the lead), then what carries over from the
    source career (its "Skills Transferable to Other Roles")."""
    lead = [q for q in lead if q.hit is lead[0].hit and q.line == lead[0].line]  # its line
    if source is None or under((*lead[0].hit.chunk.heading_path, lead[0].label), ["transferable"]):
        return lead
    chunks = [c for c in composer.sections.chunks_of(source)
              if under(c.heading_path, ["transferable"])]
    ranked = composer.rank(query, [Hit(c, 0.0, i) for i, c in enumerate(chunks, 1)], [], [])
    if ranked:
        name = composer.prompts.render("carry_over.j2", career=composer.sections.name(source))
        lead.append(replace(ranked[0], name=name))
    return lead


def pay_note(composer: Composing, query: Query, lead: Sequence[Quote],
             named: Sequence[str]) -> tuple[list[Quote], str]:
    """Pay: a lead without a money figure gets its career's best sentence with one. The
    documents are said to give no figure only when no passage of that career's document holds
    one, and none for a place only when the passages quoted name another place."""
    lead = list(lead)
    doc = named[0] if named else lead[0].hit.chunk.doc_id
    if not composer.sections.is_career(doc):
        return lead, ""  # an overview chapter (resources, transitions) has no pay of its own
    career = composer.sections.name(doc)
    said = " ".join(q.text for q in lead)
    if not MONEY.search(said):
        if not any(MONEY.search(c.text) for c in composer.sections.chunks_of(doc)):
            return lead, composer.prompts.render("pay_note.j2", career=career, place="",
                                                 given=[])
        figure = best_with(composer, query, doc, MONEY, "pay")
        if figure is None:
            return lead, ""
        lead.append(figure)
        said += " " + figure.text
    passage = " ".join(q.hit.chunk.text for q in lead)
    asked = [p for p in places_in(query.question) if p not in places_in(passage)]
    if not asked:
        return lead, ""
    return lead, composer.prompts.render("pay_note.j2", career=career, place=asked[0],
                                         given=places_in(said))


def duration_note(composer: Composing, query: Query, lead: Sequence[Quote],
                  named: Sequence[str]) -> tuple[list[Quote], str]:
    """A question of time: a lead without a span of time gets its career's best sentence with
    one; the documents are said not to give one only when no passage of that document does
    (they give paths and requirements, rarely durations)."""
    lead = list(lead)
    if any(SPAN.search(q.text) for q in lead):
        return lead, ""
    doc = named[0] if named else lead[0].hit.chunk.doc_id
    span = best_with(composer, query, doc, SPAN, "education")
    if span is not None:
        return [*lead, span], ""
    if any(SPAN.search(c.text) for c in composer.sections.chunks_of(doc)):
        return lead, ""
    return lead, composer.prompts.render("duration_note.j2")


def best_with(composer: Composing, query: Query, doc: str, pattern: re.Pattern[str],
              kind: str) -> Quote | None:
    """The best-scoring quotable sentence of a document that matches ``pattern``."""
    chunks = [c for c in composer.sections.chunks_of(doc) if pattern.search(c.text)]
    hits = [Hit(c, 0.0, i) for i, c in enumerate(chunks, 1)]
    ranked = composer.rank(query, hits, [kind], [doc]) if hits else []
    return next((q for q in ranked if pattern.search(q.text)), None)


def fit(composer: Composing, query: Query) -> Composition:
    """Up to ``fit_careers`` careers whose passages best match what the student enjoys, best
    first, each with its best sentence (from its own document) as the reason."""
    s = composer.settings
    careers = composer.sections.careers()
    interest, hits = composer.retriever.search(interests(query.question), k=s.fit_pool,
                                               doc_ids=careers)
    by_doc: dict[str, list[Hit]] = {}
    for hit in hits:
        if not under(hit.chunk.heading_path, NOT_ABOUT_THE_JOB):
            by_doc.setdefault(hit.chunk.doc_id, []).append(hit)
    order = sorted(by_doc, key=lambda d: (-_doc_score(by_doc[d]), d))[: s.fit_careers]
    lead = []
    for doc in order:
        ranked = composer.rank(interest, by_doc[doc][:3], ["work", "skills"], [])
        if ranked:
            lead.append(replace(ranked[0], name=composer.sections.name(doc)))
    preface = composer.prompts.render("fit.j2", count=len(lead))
    return Composition(kind="fit", lead=tuple(lead), preface=preface,
                       careers=tuple(q.hit.chunk.doc_id for q in lead))


def _doc_score(hits: list[Hit]) -> float:
    """A career's match: its best passage, and half of its second best."""
    scores = sorted((h.score for h in hits), reverse=True)
    return scores[0] + 0.5 * (scores[1] if len(scores) > 1 else 0.0)
