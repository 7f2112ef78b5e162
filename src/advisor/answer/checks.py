"""Checks on text: the support check for model sentences, citation cleaning, injection and
leak checks.

The support check is lexical on purpose. A sentence on the right topic that names the wrong
certification or invents a book is close to its passage by cosine similarity; it is far by its
words. So a model sentence stands only if its numbers and named things (certifications, tools,
organisations, titles, books) appear in the passage it cites, nearly all of its content words
do (or frame a wh-question; a yes/no question's words are the claim asked about, and the
student's guess restated is no fact of the passage), and it adds no negation and no yes/no the
passage does not make.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from advisor.errors import InputError
from advisor.text import (
    CITATION,
    content_stems,
    fold_space,
    numbers,
    plain_text,
    stemmer,
    strip_citations,
    word_tokens,
)

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_INJECTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instructions?|prompts?|rules|guidelines)\b"
    r"|\bsystem prompt\b|\b(reveal|show|print|repeat|leak)\b.{0,30}\b(instructions?|prompt)\b"
    r"|\byou are now\b|\bdeveloper mode\b|\bjailbreak",
    re.I | re.S,
)
_QUOTED = re.compile(r"[\"“]([^\"”]{3,80})[\"”]")
_NEGATION = re.compile(r"\b(?:not|no|never|none|nor|cannot|without|neither)\b|n['’]t\b", re.I)
#: "I would recommend AWS": an opinion of the advisor's own, which no passage states.
_FIRST_PERSON = re.compile(r"\bI(?:['’](?:d|m|ll|ve))?\b|\b(?i:me|my|mine|myself)\b")
#: Words that make a claim stronger ("you need the CISSP", "highly recommended", "the best"):
#: a model sentence may use one only where the passage does.
_CLAIM = re.compile(
    r"\b(?:must|needs?|needed|requires?|required|essential|necessary|crucial|vital|critical"
    r"|important|always|every|all|only|best|most|top|highly|strongly|definitely|certainly"
    r"|guaranteed?|mandatory)\b",
    re.I,
)
#: A range of figures: "$70,000 to $95,000", "3-7", "between 2 and 5".
_RANGE = re.compile(r"(\d[\d,.]*)\+?\s*(?:to|–|—|-|and)\s*[$£€]?(\d[\d,.]*)")
_YES_NO = re.compile(r"^\W*(?:yes|no|nope|yeah|absolutely|definitely)\b", re.I)
#: A yes/no or either/or question: a clause that opens with an auxiliary ("Do SDETs get paid
#: more?", "..., can that go in my portfolio?", "would I be on my own or with someone watching?").
_POLAR = re.compile(
    r"(?:^|[.?!,;]\s+)(?:(?:and|so|ok|okay|but|then|also|well)[,\s]+)*"
    r"(?:do|does|did|is|are|was|were|am|can|could|would|will|should|shall|has|have|had|may|"
    r"might|must)\b", re.I)
#: Plain words a restatement for a student may use that no passage needs to hold.
PLAIN_WORDS = frozenset(
    """job jobs work works working role roles career careers people person someone student
    students help helps start starts starting learn learning need needs use used using make
    makes get gets year years yearly annual annually like way ways often usually many much lot
    well able know thing things kind part one first also typically generally around roughly
    about approximately between range ranges earn earns pay paid salary salaries good become
    becomes come comes choose want go do done you'll you're you've it's they're that's""".split()
)


@dataclass(frozen=True)
class Verdict:
    """Whether a sentence stands, and why not."""

    ok: bool
    reason: str = ""


def named_things(sentence: str) -> list[str]:
    """Names in a sentence: acronyms, words with inner capitals or digits, capitalised words
    after the first, and quoted titles. A first word counts only if it is an acronym."""
    names = [m.group(1) for m in _QUOTED.finditer(sentence)]
    for i, m in enumerate(word_tokens(sentence)):
        word = re.sub(r"['’]s$", "", m.group(0)).strip("'’-")
        if len(word) < 2 or word.isdigit() or word.startswith(("I'", "I’")):
            continue
        inner = any(c.isupper() for c in word[1:]) or any(c.isdigit() for c in word)
        special = any(c in word for c in "+#")
        capital = word[0].isupper() and i > 0 and not _after_break(sentence, m.start())
        if inner or special or capital:
            names.append(word)
    return names


def _after_break(text: str, at: int) -> bool:
    """The word starts a sentence or a clause after a colon (where a capital is not a name)."""
    before = text[:at].rstrip()
    return not before or before[-1] in ".!?:\"“("


@lru_cache(maxsize=1)
def _plain_stems() -> frozenset[str]:
    """``PLAIN_WORDS`` stemmed, once (every model sentence is checked against them)."""
    return frozenset(stemmer().stemWords(list(PLAIN_WORDS)))


def support(
    sentence: str, passage: str, question: str = "", *, min_share: float = 1.0, heading: str = ""
) -> Verdict:
    """Whether ``passage`` (plain text, ``heading`` included) supports a model sentence."""
    said = strip_citations(sentence).strip()
    if not said:
        return Verdict(False, "empty")
    if _YES_NO.match(said):
        return Verdict(False, "a yes or no the passage does not state")
    source = plain_text(passage)
    low = source.lower()
    missing_numbers = sorted(numbers(said) - numbers(source))
    if missing_numbers:
        return Verdict(False, f"number not in the passage: {', '.join(missing_numbers)}")
    for low_end, high_end in _RANGE.findall(source):
        # "around $95,000" from "$70,000 to $95,000": a range is given whole or not at all.
        ends = numbers(low_end) | numbers(high_end)
        if len(ends) == 2 and len(ends & numbers(said)) == 1:
            return Verdict(False, "one end of a range the passage gives")
    names = named_things(said)
    places: dict[str, list[int]] = {}
    for name in names:
        # "DevOps Engineers" is named in a passage that says "DevOps Engineer".
        # A whole word (or its plural): "HubS" is not named by "HubSpot", "API" is by "APIs".
        forms = {name.lower(), name.removesuffix("s").lower()}
        whole = [rf"(?<!\w){re.escape(form)}(?:e?s)?(?![\w+#])" for form in forms]
        found = sorted({m.start() for p in whole for m in re.finditer(p, low)})
        if not found:
            return Verdict(False, f"name not in the passage: {name}")
        places.setdefault(name.lower(), found)
    if not _in_order(said, heading, places):
        # "JavaScript or Python" from "Python or Java, then JavaScript"; "from B to A" from
        # "from A to B": every name is the passage's, the relation between them is not.
        return Verdict(False, "names in another order than the passage's")
    if _FIRST_PERSON.search(said) and not _FIRST_PERSON.search(source):
        return Verdict(False, "speaks for the advisor, not the documents")
    if _NEGATION.search(said) and not _NEGATION.search(source):
        return Verdict(False, "a negation the passage does not make")
    # From the passage only: "the very top job is X" restates the question's "very top" as a
    # fact about X, which the passage does not give.
    known = set(content_stems(source))
    allowed = known | {w.lower() for w in _CLAIM.findall(source)}
    for word in _CLAIM.findall(said):
        if word.lower() not in allowed and not set(content_stems(word)) & allowed:
            return Verdict(False, f"a stronger claim than the passage makes: {word}")
    stems = content_stems(said)
    asked = set(content_stems(question))
    plain = _plain_stems()
    own = [s for s in stems if s not in asked and s not in plain]
    if not (numbers(said) or names or any(s in known for s in own)):
        return Verdict(False, "says nothing from the passage")
    # A wh-question's words frame the answer ("Which books are recommended?": "X is
    # recommended"). A yes/no question's words are the claim asked about: "a full stack
    # developer works with someone watching over them" restates "... or with someone watching
    # over me?" as the passage's answer, so there they count as the sentence's own.
    framing = set() if _POLAR.search(question) else asked
    unknown = [s for s in stems if s not in known and s not in framing and s not in plain]
    if stems and 1 - len(unknown) / len(stems) < min_share:
        return Verdict(False, f"words not in the passage: {', '.join(sorted(set(unknown)))}")
    return Verdict(True)


def _in_order(said: str, heading: str, places: dict[str, list[int]]) -> bool:
    """Whether the sentence's names follow one another as they do in the passage: each can be
    matched at or after the one before it. A name in the heading (the career the passage is
    about) may stand anywhere."""
    free = heading.lower()
    order = sorted(
        (said.lower().find(name), name) for name in places
        if not re.search(rf"(?<!\w){re.escape(name)}(?!\w)", free)
    )
    at = -1
    for _, name in order:
        later = [p for p in places[name] if p >= at]
        if not later:
            return False
        at = later[0]
    return True


def repeats_question(sentence: str, question: str) -> bool:
    """A sentence that adds at most two words to the question, and no name or number
    ("Airflow is a key tool for ..." answers "Which tool is key for ...?")."""
    said = strip_citations(sentence)
    asked = set(re.findall(r"\w+", question.lower()))
    added = set(re.findall(r"\w+", said.lower())) - asked
    new_names = {n.lower() for n in named_things(said)} - asked
    return len(added) <= 2 and not new_names and not numbers(said) - numbers(question)


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
        return CITATION.sub(lambda m: m.group(0) if 1 <= int(m.group(1)) <= self.n else "", text)


def clean_citations(text: str, n_passages: int) -> str:
    """The text without citation markers that point to no passage shown."""
    cleaned = CitationFilter(n_passages).clean(text)
    return re.sub(r"[ \t]+([.,;:!?])", r"\1", re.sub(r"[ \t]{2,}", " ", cleaned)).strip()


def check_question(question: object, limit: int) -> tuple[str, list[str]]:
    """The question normalised and cut to ``limit`` characters, with a notice if it was cut;
    InputError for one that is not text or is empty."""
    if not isinstance(question, str):
        raise InputError("the question must be text")
    text = normalize_question(question)
    if not text:
        raise InputError("the question is empty: ask something about a career")
    if len(text) <= limit:
        return text, []
    text = text[:limit].rsplit(" ", 1)[0]
    return text, [f"your question was cut to its first {len(text)} characters"]


def normalize_question(question: str) -> str:
    """Control characters out, whitespace folded."""
    return fold_space(_CONTROL.sub(" ", question))


def is_injection(question: str) -> bool:
    """A question that tries to change or reveal the instructions."""
    return bool(_INJECTION.search(question))


def leak_probes(template: str) -> list[str]:
    """Runs of six words of a prompt template's fixed text: an answer must not contain them."""
    fixed = re.sub(r"\{[{%#].*?[}%#]\}", " ", template, flags=re.S)
    words = fixed.lower().split()
    return [" ".join(words[i : i + 6]) for i in range(0, max(0, len(words) - 5), 3)]


def leaks(text: str, probes: Sequence[str]) -> bool:
    """Whether a text repeats a run of the instructions."""
    low = fold_space(text.lower())
    return any(probe in low for probe in probes)
