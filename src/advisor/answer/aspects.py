"""The kinds of question as a table: for each kind, the heading fragments of the sections that
hold it, the words a bold label that stands for such a section uses ("Possible career
changes"), and the follow-up question that offers it; which kinds name an answer (in the
kind model's order), and the order follow-ups are offered in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Aspect:
    """One kind of question: its words, its sections, and the follow-up that asks for it."""

    kind: str
    words: re.Pattern[str]  # the words of a label of such a section (a signal, not a rule)
    headings: tuple[str, ...]  # lower-case fragments of the headings (or bold labels) that hold it
    follow_up: str = ""  # a question about a career, "{career}" filled in ("" = never offered)


def words(pattern: str) -> re.Pattern[str]:
    """A case-blind pattern for any of these words at a word start."""
    return re.compile(rf"\b(?:{pattern})", re.I)


ASPECTS: dict[str, Aspect] = {
    a.kind: a
    for a in (
        Aspect(
            "pay",
            words(
                r"salar\w*|pay\b|paid\b|earn\w*|income|wages?\b|money\b|compensation|"
                r"how much (?:do|does|can|will|would)\b.{0,40}\b(?:make|get)\b|make a living"
            ),
            ("salary", "salaries"),
            "What does {a} {career} earn at the start?",
        ),
        Aspect(
            "certifications",
            words(r"certif\w*|certs?\b|credentials?\b|exams?\b"),
            ("certification", "vocational training"),
            "Which certifications help {a} {career}?",
        ),
        Aspect(
            "transition",
            words(
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
            # "on a project" and "project manager" are no project to build; practising a
            # skill at home is what the project ideas are for.
            words(r"portfolio|(?<!on a )(?<!on the )projects?\b(?!\s+manag)|showcase|github\b|"
                   r"(?<!best )practi[cs](?:e|ing)\b|home lab"),
            ("portfolio", "project ideas", "showcasing"),
            "What projects should {a} {career} put in a portfolio?",
        ),
        Aspect(
            "specializations",
            words(r"speciali[sz]\w*|niches?\b|focus areas?\b"),
            ("specialization",),
            "What can {a} {career} specialize in?",
        ),
        Aspect(
            "progression",
            words(
                r"progress\w*|promot\w*|career (?:path|ladder)|ladder\b|senior\b|advanc\w*|"
                r"move up|later in (?:my|the|their) career|long[- ]term|grow\w* (?:in|into)\b|"
                r"lead\b|leadership|management path"
            ),
            ("progression", "career ladder", "job titles at each stage", "senior level"),
            "How does {a} {career} move up over the years?",
        ),
        Aspect(
            "resources",
            words(
                r"books?\b|read\b|reading\b|websites?\b|links?\b|resources?\b|subreddits?\b|"
                r"communit\w*|youtube|blogs?\b|podcasts?\b|newsletters?\b|where (?:can|do|should) "
                r"i (?:learn|read|find)"
            ),
            ("future reading", "resources", "self-learning"),
            "What should I read to learn more about being {a} {career}?",
        ),
        Aspect(
            "education",
            words(
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
            words(
                r"entry[- ]level|junior\b|first job|intern\w*|job titles?\b|trainee|graduate|"
                r"(?:get(?:ting)?|be|being) hired|(?:straight|right|fresh) (?:out of|after|from)\b|"
                r"new grad"
            ),
            ("entry-level", "typical entry-level job titles"),
            "",
        ),
        Aspect(
            "skills",
            words(
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
            words(
                r"need|learn|skills?\b|certif\w*|certs?\b|training|pick up|add\b|stud\w+|"
                r"requir|develop\b|focus\b|work on\b|improve|prepare|gaps?\b|tools?\b"
            ),
            ("additional skills", "needed to switch"),
        ),
        Aspect(
            "switch_paths",
            words(r"."),
            ("common transition paths", "transition paths"),
        ),
        Aspect(
            "work",
            words(
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
#: The kinds that may name an answer (the halves of the switching sections never do); the
#: composer orders those a question asks by the kind model's probability.
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
