"""What an answer is made of before any model writes: the quoted sentences (``Quote``), their
``Composition``, and the text helpers that shape a quote: cut a long sentence to the clauses
that answer, and match a bold label against the question's words."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from advisor.text import content_stems
from advisor.types import Hit


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
    preface: str = ""  # shown before the quotes ("These 3 careers ... fit what you describe:")
    note: str = ""  # shown after them ("The documents give no salary figure for ...")
    hits: tuple[Hit, ...] = field(default=())  # cited passages in citation-number order

    @property
    def listed(self) -> bool:
        """One lead line per career (fit, compare) rather than running sentences."""
        return self.kind in ("fit", "compare")



def trim(text: str, label: str, asked: set[str], limit: int) -> str:
    """A long sentence cut to its run of clauses that holds most of the question's words (the
    bold label kept), with "…" where text was left out."""
    if len(text) <= limit:
        return text
    labelled = label and text.startswith(label) and text[len(label) :][:1] == ":"
    start = len(label) + 1 if labelled else 0
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


#: A question that asks which things (tools, certifications): named things then count.
LISTING = re.compile(
    r"\b(?:which|what)\b(?! is\b| does\b| do\b|['’]s\b|['’]re\b)|\bname some\b|\blist\b", re.I
)

#: A sentence about the guide itself ("We'll also map out typical leadership paths…", "This
#: section is all about…"): it tells what the documents go on to say, not a fact to quote.
SIGNPOST = re.compile(
    r"\b(?:this (?:article|guide|section|chapter)|we(?:'ll| will|'ve| have|'re| are)"
    r"|let's|later in)\b", re.I)
#: A question about the guide itself, which such a sentence may answer.
ABOUT_GUIDE = re.compile(r"\b(?:guide|article|section|chapter|these documents)\b", re.I)


def label_share(label: str, asked: set[str]) -> float:
    """The share of a bold label's words (its parenthesis and "to" left out) the question uses."""
    words = set(content_stems(label.split("(")[0])) - {"to"}
    return len(words & asked) / len(words) if words else 0.0


def label_asked(label: str, asked: set[str]) -> bool:
    """A bold label whose words the question all uses ("To Cloud Engineer", "Game Jams")."""
    return label_share(label, asked) == 1.0
