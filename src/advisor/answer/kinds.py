"""Where the career documents answer each kind of question (the section headings they share:
"Entry-Level Positions", "Key Skills Required", "Switching Careers" ..., the table is
``aspects``), and what a question's words say plainly: small talk, a question of time, two
careers set side by side, the places it names, what a student says about themselves. Which
kinds a question asks is learned (``model.KindModel``), not read from these words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from advisor.answer.aspects import ASPECTS, words
from advisor.text import typed_sentences

_COMPARE = words(
    r"differen\w*|\bvs\.?|versus|compar\w*|better\b|rather\b|or\b|which (?:one|is|pays|of)"
)
_FIT_ASK = re.compile(
    r"\b(?:suits?|fits?)\b.{0,12}\bme\b|\bfor me\b|"
    r"\b(?:what|which) (?:kind of )?(?:jobs?|careers?|roles?|fields?|paths?|positions?)\b"
    r"(?: in tech)? (?:would|should|could|might|can|is|are|fits?|suits?|matches?|that)\b|"
    r"\bwhat (?:should|could|can|would) i (?:become|do|be|look at|choose|pick|study|go for)\b|"
    r"\b(?:jobs?|careers?|roles?) (?:for|suited to) (?:me|someone|a person)\b|"
    r"\bwhat (?:job|career|role) is (?:that|this|it)\b",
    re.I,
)
_SMALLTALK_PART = (
    r"(?:hi+|hello+|hey+|hiya|howdy|yo|greetings|good (?:morning|afternoon|evening|day)|"
    r"thanks?(?: you)?(?: (?:so|very) much| a lot| again)?|thx|ty|cheers|great|cool|nice|ok(?:ay)?|"
    r"awesome|perfect|got it|bye|goodbye|see (?:you|ya)(?: later)?|"
    r"who are you|what are you|who made you|what(?:'s| is) your name|are you (?:a bot|a robot|"
    r"human|an ai|real|a person)|what (?:can|do) you do|what do you know|how can you help(?: me)?|"
    r"what can i ask(?: you)?|help|how are you(?: doing)?|what(?:'s| is) up|nice to meet you)"
    r"(?: (?:there|advisor|friend|everyone|all|again|today|me))*"
)
_SMALLTALK = re.compile(rf"^(?:{_SMALLTALK_PART}[\s!.,?:;)(-]*)+$", re.I)
_THANKS = re.compile(r"\b(?:thanks?|thx|ty|cheers)\b", re.I)
_BYE = re.compile(r"\b(?:bye|goodbye|see (?:you|ya))\b", re.I)
_GREETING = re.compile(r"^\W*(?:hi+|hello+|hey+|hiya|howdy|yo|greetings|good (?:morning|"
                       r"afternoon|evening|day))\b", re.I)


def smalltalk(question: str) -> str | None:
    """'greeting', 'thanks', 'bye' or 'about' for a message that is only small talk; else None."""
    text = question.strip()
    if not text or not _SMALLTALK.match(text):
        return None
    if _THANKS.search(text):
        return "thanks"
    if _BYE.search(text):
        return "bye"
    if _GREETING.match(text) and len(text.split()) <= 3:
        return "greeting"
    return "about"


#: "How long does it take to become ...?", "how many years ...": a question of time.
_DURATION = re.compile(
    r"\bhow long\b|\bhow many (?:years|months|weeks)\b|\bhow (?:quickly|fast|soon)\b", re.I
)
#: A span of time a passage gives ("2-4 years", "six months" is not matched: digits only).
SPAN = re.compile(r"\b\d+(?:\s*(?:-|–|to)\s*\d+)?\+?\s*(?:years?|months?|weeks?)\b", re.I)


def asks_duration(question: str) -> bool:
    """A question about how long something takes."""
    return bool(_DURATION.search(question))


def is_compare(question: str, named_careers: Sequence[str]) -> bool:
    """Two different careers named, with words that set them side by side."""
    return len(set(named_careers)) >= 2 and bool(_COMPARE.search(question))


def heading_match(headings: Sequence[str], kinds: Sequence[str]) -> bool:
    """Whether a passage's headings (and bold labels) are the sections of one of the kinds."""
    return under(headings, [frag for kind in kinds for frag in ASPECTS[kind].headings])


def kind_asked(text: str, kind: str) -> bool:
    """Whether a text (a bold label) uses the words that ask for a kind ("Possible career
    changes" for a transition)."""
    return bool(ASPECTS[kind].words.search(text))


def under(headings: Sequence[str], fragments: Sequence[str]) -> bool:
    """Whether a passage's headings contain one of these lower-case fragments."""
    low = " > ".join(headings).lower()
    return any(frag in low for frag in fragments)


def article(name: str) -> str:
    """'an' before a vowel sound, else 'a' (good enough for career names)."""
    return "an" if name[:1].lower() in "aeiou" else "a"


# ---------------------------------------------------------------- places (for pay questions)

#: Places a student may ask about, by the name an answer uses; short capitalised aliases
#: ("US", "UK", "EU") count only in capitals.
PLACES: dict[str, tuple[str, ...]] = {
    "the US": ("US", "U.S.", "USA", "United States", "America", "American", "the States"),
    "the UK": ("UK", "U.K.", "United Kingdom", "Britain", "British", "England"),
    "Europe": ("Europe", "European", "EU"),
    "India": ("India", "Indian"),
    "Sri Lanka": ("Sri Lanka", "Sri Lankan", "Colombo"),
    "Canada": ("Canada", "Canadian"),
    "Australia": ("Australia", "Australian"),
    "New Zealand": ("New Zealand",),
    "Germany": ("Germany", "German"),
    "France": ("France", "French"),
    "the Netherlands": ("Netherlands", "Dutch"),
    "Ireland": ("Ireland", "Irish"),
    "Singapore": ("Singapore",),
    "Malaysia": ("Malaysia",),
    "the Maldives": ("Maldives",),
    "Japan": ("Japan", "Japanese"),
    "China": ("China", "Chinese"),
    "Pakistan": ("Pakistan",),
    "Bangladesh": ("Bangladesh",),
    "Nepal": ("Nepal",),
    "the Philippines": ("Philippines",),
    "the UAE": ("UAE", "Dubai", "Emirates"),
    "Saudi Arabia": ("Saudi",),
    "Nigeria": ("Nigeria",),
    "Kenya": ("Kenya",),
    "South Africa": ("South Africa",),
    "Brazil": ("Brazil",),
    "Mexico": ("Mexico",),
}


def _alias_pattern(aliases: Sequence[str], flags: int) -> re.Pattern[str] | None:
    if not aliases:
        return None
    return re.compile(r"(?<![\w.])(?:" + "|".join(map(re.escape, aliases)) + r")(?!\w)", flags)


_PLACE_PATTERNS = [
    (place, rx)
    for place, aliases in PLACES.items()
    for rx in (
        _alias_pattern([a for a in aliases if a.replace(".", "").isupper()], 0),
        _alias_pattern([a for a in aliases if not a.replace(".", "").isupper()], re.I),
    )
    if rx is not None
]


def places_in(text: str) -> list[str]:
    """The places a text names, in order of first mention."""
    found = [(m.start(), place) for place, rx in _PLACE_PATTERNS for m in rx.finditer(text)]
    out: list[str] = []
    for _, place in sorted(found):
        if place not in out:
            out.append(place)
    return out


def interests(question: str) -> str:
    """What a student says about themselves, without the "which job fits me?" part."""
    parts = typed_sentences(question)
    kept = [p for p in parts if not _FIT_ASK.search(p)]
    if kept:
        return " ".join(kept)
    return _FIT_ASK.sub(" ", question).strip(" ,.?!") or question
