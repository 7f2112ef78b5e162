"""A question made standalone: the text searched, the careers it is about, and how strongly
each named career's passages are preferred."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from advisor.corpus import CareerMatcher, CareerMention

_TRANSITION = re.compile(
    r"\b(switch\w*|mov(e|ing) (in)?to|transition\w*|becom(e|ing)|go(ing)? (in)?to|get into|"
    r"pivot\w*|chang(e|ing) (careers?|roles?|to)|want to (go|be|do|work)|from .{1,40} to)\b",
    re.I,
)


@dataclass(frozen=True)
class Query:
    """A question made standalone: the text searched and the careers it is about."""

    question: str
    text: str
    careers: tuple[CareerMention, ...]
    inherited: bool = False
    #: The conversation's earlier user turns, oldest first (what a follow-up refers back to).
    earlier: tuple[str, ...] = ()
    #: The embedding of ``text``, once computed, so one answer encodes its query once.
    vector: Any = field(default=None, compare=False, repr=False)
    #: It asks about moving from the first career it names to the last.
    switch: bool = False


def condense(careers: CareerMatcher, question: str, history: Sequence[str] = (), *,
             follows: bool | None = None, subject: str | None = None,
             switch: bool | None = None) -> Query:
    """Make a follow-up standalone. A turn that names careers stands alone. A follow-up
    (``follows``; None: any turn after others) is searched together with the turn before it
    and is about ``subject`` (the career the previous answer was about), else about the careers
    the conversation last named. A turn that does not follow (``follows=False``) starts afresh:
    no career, no kind of question carried over. A turn that names two careers asks about a
    switch between them when ``switch`` says so (None: when its words speak of a move; "do I
    need to be a programmer to become a technical writer?" does and asks no switch)."""
    own = careers.find(question)
    earlier = tuple(history)
    moves = switches(question) if switch is None else switch
    if len(own) > 1 and moves:
        # Advice on a switch sits in the "from" career's document, under the target's name.
        target = own[-1].name
        text = f"{question} (switching careers to {target}: skills and training needed)"
        return Query(question, text, tuple(own), earlier=earlier, switch=True)
    if own or not history:
        return Query(question, question, tuple(own), earlier=earlier)
    if follows is False:
        return Query(question, question, ())
    found = careers.mention(subject) if subject else None
    inherited = [found] if found else careers.find_in_conversation("", history)
    # "is there one that is not tied to a vendor?" asks about what the turn before asked
    # (certifications): searched alone it finds neither (conversations' hit@5 0.865 -> 0.958).
    return Query(question, f"{history[-1]} {question}", tuple(inherited),
                 inherited=bool(inherited), earlier=earlier,
                 switch=len(inherited) > 1 and moves)


def switches(text: str) -> bool:
    """Whether a text speaks of moving from one career to another."""
    return bool(_TRANSITION.search(text))


def career_preference(query: Query) -> dict[str, float]:
    """How much each named career's passages are preferred (1 = fully).

    In "I'm an X and want to become a Y" the advice lives in X's document (its
    "Switching Careers" section), so the first career named leads.
    """
    if not query.careers:
        return {}
    if len(query.careers) > 1 and query.switch:
        first = query.careers[0].doc_id
        return {c.doc_id: (1.0 if c.doc_id == first else 0.3) for c in query.careers}
    return {c.doc_id: 1.0 for c in query.careers}
