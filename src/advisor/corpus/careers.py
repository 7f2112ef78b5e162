"""Which careers a question names: titles of the documents and their common aliases."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# Common names people use for the careers of the bundled corpus, keyed by the career's name
# (the document title without its number). Documents of other corpora get automatic aliases.
ALIASES: Mapping[str, tuple[str, ...]] = {
    "full stack developer": (
        "full-stack developer",
        "fullstack developer",
        "full stack dev",
        "full stack engineer",
        "full-stack engineer",
        "full stack",
    ),
    "data scientist": ("data science",),
    "devops engineer": ("devops", "sre", "site reliability engineer", "site reliability"),
    "computer network architect": ("network architect", "network engineer", "networking"),
    "cloud engineer": ("cloud architect", "cloud computing engineer"),
    "video game developer": (
        "game developer",
        "game dev",
        "game programmer",
        "game designer",
        "games developer",
        "game development",
    ),
    "quality assurance engineer": ("qa engineer", "qa", "quality assurance", "qa tester"),
    "software engineer": ("software developer", "swe", "programmer"),
    "mobile developer": (
        "mobile app developer",
        "android developer",
        "ios developer",
        "app developer",
        "mobile engineer",
    ),
    "systems engineer": ("system engineer", "systems administrator", "sysadmin"),
    "machine learning engineer": (
        "ml engineer",
        "mle",
        "ai engineer",
        "ml engineering",
        "machine learning engineering",
    ),
    "web developer": (
        "web dev",
        "frontend developer",
        "front-end developer",
        "front end developer",
        "web designer",
    ),
    "engineering manager": ("em", "eng manager", "engineering management"),
    "it security specialist": (
        "security specialist",
        "information security specialist",
        "infosec specialist",
        "it security",
    ),
    "product manager": ("pm", "product management", "product owner"),
    "software tester": ("tester", "manual tester", "test engineer"),
    "business analyst": ("ba",),
    "backend developer": (
        "back-end developer",
        "back end developer",
        "backend engineer",
        "back-end engineer",
        "backend dev",
        "server-side developer",
    ),
    "business intelligence developer": (
        "bi developer",
        "bi dev",
        "business intelligence",
        "bi engineer",
    ),
    "cybersecurity engineer": ("cyber security engineer", "security engineer", "cybersecurity"),
    "data engineer": ("data engineering", "etl developer"),
    "database administrator": ("dba", "database admin", "db admin"),
    "project manager": ("pm", "project management", "scrum master"),
    "secops engineer": (
        "secops",
        "security operations engineer",
        "soc analyst",
        "security operations",
    ),
    "technical writer": ("tech writer", "documentation writer", "technical writing"),
    "technical sales": (
        "sales engineer",
        "solutions engineer",
        "pre-sales engineer",
        "presales engineer",
        "tech sales",
    ),
    "technical marketing": (
        "technical marketer",
        "technical marketing manager",
        "product marketing",
        "developer marketing",
    ),
    "support engineer / customer success engineer": (
        "support engineer",
        "customer success engineer",
        "customer success",
        "technical support engineer",
        "tech support",
        "csm",
    ),
}

_NUMBER_PREFIX = re.compile(r"^\s*\d+[.)]\s*")
_ROLE_NOUNS = {
    "engineer",
    "developer",
    "manager",
    "specialist",
    "administrator",
    "analyst",
    "architect",
    "scientist",
    "tester",
    "writer",
}


def career_name(title: str) -> str:
    """A document title without its leading number: '14. Machine Learning Engineer' -> ..."""
    return _NUMBER_PREFIX.sub("", title).strip()


def automatic_aliases(name: str) -> set[str]:
    """Aliases derived from a name: the lower-cased name, its acronym, '/'-separated parts."""
    low = name.lower()
    out = {low}
    for part in re.split(r"\s*/\s*", low):
        out.add(part)
        words = re.findall(r"[a-z0-9]+", part)
        if len(words) >= 3:
            out.add("".join(w[0] for w in words))  # "machine learning engineer" -> "mle"
    return {a for a in out if len(a) >= 2}


@dataclass(frozen=True)
class CareerMention:
    """A career a text names, where, and by which alias."""

    doc_id: str
    name: str
    alias: str
    position: int


class CareerMatcher:
    """Finds the careers a text names, longest alias first, on word boundaries."""

    def __init__(self, titles: Mapping[str, str]) -> None:
        self.names = {doc_id: career_name(t) for doc_id, t in titles.items()}
        self._patterns: list[tuple[re.Pattern[str], str, str]] = []
        entries: list[tuple[str, str]] = []
        for doc_id, name in self.names.items():
            aliases = automatic_aliases(name) | set(ALIASES.get(name.lower(), ()))
            entries.extend((alias, doc_id) for alias in aliases)
        for alias, doc_id in sorted(entries, key=lambda e: -len(e[0])):
            flags = 0 if len(alias) <= 3 and alias.isalpha() else re.I
            # Short acronyms ("PM", "QA", "BA") only count in capitals, so "ba" in prose does not.
            text = alias.upper() if flags == 0 else alias
            pattern = re.compile(rf"(?<![\w-]){re.escape(text)}(?:s|es|'s)?(?![\w-])", flags)
            self._patterns.append((pattern, alias, doc_id))

    def find(self, text: str) -> list[CareerMention]:
        """Careers named in ``text``, in order of appearance, each once."""
        # One flag per character: a match is checked against the longer aliases already taken
        # in time proportional to its own length, so a text repeating one alias thousands of
        # times costs linear time ("PM " * 20000 took 53 s of CPU when each match was
        # compared with every earlier one).
        taken = bytearray(len(text))
        found: dict[str, CareerMention] = {}
        for pattern, alias, doc_id in self._patterns:
            for m in pattern.finditer(text):
                start, end = m.span()
                if taken.find(1, start, end) != -1:
                    continue
                taken[start:end] = b"\x01" * (end - start)
                prior = found.get(doc_id)
                if prior is None or start < prior.position:
                    found[doc_id] = CareerMention(doc_id, self.names[doc_id], alias, start)
        return sorted(found.values(), key=lambda c: c.position)

    def mention(self, doc_id: str) -> CareerMention | None:
        """A career named by its document id (the subject of an earlier answer), if known."""
        name = self.names.get(doc_id)
        return CareerMention(doc_id, name, name, -1) if name else None

    def find_in_conversation(self, question: str, history: Sequence[str]) -> list[CareerMention]:
        """Careers of the question, else of the latest earlier user turn that names one."""
        for text in (question, *reversed(list(history))):
            found = self.find(text)
            if found:
                return found
        return []

    def is_career(self, doc_id: str) -> bool:
        """Whether a document describes one career (not an overview chapter)."""
        name = self.names.get(doc_id, "").lower()
        return name in ALIASES or any(name.endswith(noun) for noun in _ROLE_NOUNS)
