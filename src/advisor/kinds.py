"""Kinds of question: what a student asks about, read from the question's words, and where
the career documents answer it (the section headings they share: "Entry-Level Positions",
"Key Skills Required", "Switching Careers" ...).

Rules, not a model: each kind has the words that ask for it and the heading fragments of the
sections that hold it. A question may match several kinds; the first in ``PRIORITY`` names it,
and the sections of all of them count as on topic.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from advisor.text import typed_sentences


@dataclass(frozen=True)
class Aspect:
    """One kind of question: its words, its sections, and the follow-up that asks for it."""

    kind: str
    words: re.Pattern[str]
    headings: tuple[str, ...]  # lower-case fragments of the headings (or bold labels) that hold it
    follow_up: str = ""  # a question about a career, "{career}" filled in ("" = never offered)


def _words(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"\b(?:{pattern})", re.I)


ASPECTS: dict[str, Aspect] = {
    a.kind: a
    for a in (
        Aspect(
            "pay",
            _words(
                r"salar\w*|pay\b|paid\b|earn\w*|income|wages?\b|money\b|compensation|"
                r"how much (?:do|does|can|will|would)\b.{0,40}\b(?:make|get)\b|make a living"
            ),
            ("salary", "salaries"),
            "What does {a} {career} earn at the start?",
        ),
        Aspect(
            "certifications",
            _words(r"certif\w*|certs?\b|credentials?\b|exams?\b"),
            ("certification", "vocational training"),
            "Which certifications help {a} {career}?",
        ),
        Aspect(
            "transition",
            _words(
                r"switch\w*|transition\w*|pivot\w*|career change|chang(?:e|ing) (?:careers?|"
                r"jobs?|roles?)|mov(?:e|ing) (?:in)?to\b|go(?:ing)? into\b|get into\b|"
                r"step (?:up|down)\b|retrain\w*|carr(?:y|ies) over|transfer\w*|"
                r"other (?:careers|roles|fields|industries|jobs)\b"
            ),
            ("switching careers", "transition", "switch", "transferable"),
            "Which careers can {a} {career} switch to?",
        ),
        Aspect(
            "portfolio",
            _words(r"portfolio|projects?\b|side project|showcase|github\b"),
            ("portfolio", "project ideas", "showcasing"),
            "What projects should {a} {career} put in a portfolio?",
        ),
        Aspect(
            "specializations",
            _words(r"speciali[sz]\w*|niches?\b|focus areas?\b"),
            ("specialization",),
            "What can {a} {career} specialize in?",
        ),
        Aspect(
            "progression",
            _words(
                r"progress\w*|promot\w*|career (?:path|ladder)|ladder\b|senior\b|advanc\w*|"
                r"move up|later in (?:my|the|their) career|long[- ]term|grow\w* (?:in|into)\b|"
                r"lead\b|leadership|management path"
            ),
            ("progression", "career ladder", "job titles at each stage", "senior level"),
            "How does {a} {career} move up over the years?",
        ),
        Aspect(
            "resources",
            _words(
                r"books?\b|read\b|reading\b|websites?\b|links?\b|resources?\b|subreddits?\b|"
                r"communit\w*|youtube|blogs?\b|podcasts?\b|newsletters?\b|where (?:can|do|should) "
                r"i (?:learn|read|find)"
            ),
            ("future reading", "resources", "self-learning"),
            "What should I read to learn more about being {a} {career}?",
        ),
        Aspect(
            "education",
            _words(
                r"degrees?\b|study\b|studies\b|studying|college|universit\w*|bootcamps?\b|"
                r"courses?\b|qualifications?\b|get(?:ting)? started|start(?:ing)? out|"
                r"how (?:do|can|should|would) i (?:become|start|get)|self[- ]taught|"
                r"learn first|first (?:language|step)|background\b|major\b|school\b"
            ),
            ("educational background", "relevant degrees", "getting started", "vocational"),
            "How do I get started as {a} {career}?",
        ),
        Aspect(
            "entry",
            _words(r"entry[- ]level|junior\b|first job|intern\w*|job titles?\b|trainee|graduate"),
            ("entry-level", "typical entry-level job titles"),
            "",
        ),
        Aspect(
            "skills",
            _words(
                r"skills?\b|need to know|good at|learn\b|languages?\b|frameworks?\b|tools?\b|"
                r"technolog\w*|tech stack|platforms?\b|libraries\b|math\w*\b"
            ),
            ("key skills", "technical skills", "soft skills", "recommended technologies"),
            "Which skills does {a} {career} need?",
        ),
        # Two halves of the switching sections, told apart when a question is about a switch:
        # what the switch takes, or where a career can lead (never a question's main kind).
        Aspect(
            "switch_needs",
            _words(
                r"need|learn|skills?\b|certif\w*|certs?\b|training|pick up|add\b|stud\w+|"
                r"requir"
            ),
            ("additional skills", "needed to switch"),
        ),
        Aspect(
            "switch_paths",
            _words(r"."),
            ("common transition paths", "transition paths"),
        ),
        Aspect(
            "work",
            _words(
                r"day[- ]to[- ]day|daily|typical day|responsibilit\w*|duties|involves?\b|"
                r"what (?:does|do|would) (?:an? |the )?.{0,40}\bdo\b|what is (?:an? )|"
                r"what are (?:an? )?.{0,30}\b(?:engineers?|developers?|managers?|analysts?)\b|"
                r"role\b|job like"
            ),
            ("role definition", "responsibilities", "definition"),
            "What does {a} {career} do day to day?",
        ),
    )
}
#: Which kind names a question that matches several ("which certifications help me switch"
#: is a transition question: the switching sections list those certifications).
PRIORITY = (
    "transition",
    "pay",
    "certifications",
    "portfolio",
    "specializations",
    "progression",
    "resources",
    "education",
    "entry",
    "skills",
    "work",
)
#: The order in which follow-ups are offered: the basics of a career first.
FOLLOW_UPS = (
    "work",
    "skills",
    "education",
    "pay",
    "certifications",
    "progression",
    "transition",
    "specializations",
    "portfolio",
    "resources",
)

_COMPARE = _words(
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
_FIT_SELF = re.compile(
    r"\bi(?:'m| am)? (?:really |also |quite )?(?:like|love|enjoy|prefer|am good at|'m good at|"
    r"good at|curious|fascinated|interested|passionate|keen|into)\b|\bmy (?:hobby|hobbies|"
    r"strengths?|interests?)\b|\bi(?:'m| am) (?:good|great|strong) (?:at|with|in)\b",
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


def aspects_of(question: str) -> list[str]:
    """Every kind whose words the question uses, in ``PRIORITY`` order."""
    return [kind for kind in PRIORITY if ASPECTS[kind].words.search(question)]


def is_fit(question: str, named_careers: int) -> bool:
    """A student describing themselves and asking which career would suit them."""
    if not _FIT_ASK.search(question):
        return False
    return bool(_FIT_SELF.search(question)) or named_careers == 0


def is_compare(question: str, named_careers: Sequence[str]) -> bool:
    """Two different careers named, with words that set them side by side."""
    return len(set(named_careers)) >= 2 and bool(_COMPARE.search(question))


def heading_match(headings: Sequence[str], kinds: Sequence[str]) -> bool:
    """Whether a passage's headings (and bold labels) are the sections of one of the kinds."""
    return under(headings, [frag for kind in kinds for frag in ASPECTS[kind].headings])


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
