"""Text handling, in one place: plain text and folding, sentences, words and stop words,
citation markers.

Where two variants of one thing exist they serve different readers, and their names say which:
documents are split at ``SENTENCE_BREAK`` but a student's typing at ``TYPED_BREAK``; BM25
drops bm25s's stop-word lists, the support check ``FUNCTION_WORDS`` and the answer figures
``KEY_TERM_STOPWORDS``. Changing any of them changes what is indexed, passed or measured.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# ---------------------------------------------------------------- plain text and folding

_MARKUP = re.compile(r"\*\*|__|(?m:^\s*(?:[*+-]|\d+\.)\s+)|&nbsp;|`")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]+\)")
_SPACE = re.compile(r"\s+")


def plain_text(text: str) -> str:
    """Passage text without Markdown markup, whitespace folded."""
    text = _LINK.sub(r"\1", text)
    return _SPACE.sub(" ", _MARKUP.sub(" ", text)).strip()


def fold_space(text: str) -> str:
    """Runs of whitespace as one space, none at the ends."""
    return _SPACE.sub(" ", text).strip()


def fold(text: str) -> str:
    """Whitespace collapsed and case folded, for evidence matching."""
    return fold_space(text).casefold()


# ---------------------------------------------------------------- sentences

#: A sentence of the documents ends: . ! or ? and then a capital, a digit or a quote, so
#: "e.g. python" and "U.S. salaries" stay whole.
SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")
#: A sentence a student typed ends: . ! or ? and then anything (students skip capitals).
TYPED_BREAK = re.compile(r"(?<=[.!?])\s+")
#: Where the chunker may cut an over-long block: after . ! ? or ; (a clause will do). Moving
#: it moves chunk boundaries, so it goes with a new ``chunking.CHUNKER_VERSION``.
CHUNK_CUT = re.compile(r"(?<=[.!?;])\s+(?=\S)")
#: The bold label that opens a line or block ("**Expected Initial Salary Ranges:**").
BOLD_LABEL = re.compile(r"^\s*(?:[*+-]|\d+\.)?\s*\*\*(.+?)\*\*")
_LINK_LINE = re.compile(r"\s*(?:[-*+]|\d+[.)])?\s*\[[^\]]*\]\([^)]*\)\s*[.,;]?\s*$")
# A line that opens with a short term and a colon ("Frontend: HTML, CSS", "`clone`: Make a copy").
_TERM_LABEL = re.compile(r"^([^:.!?]{2,60}?)\s*:\s+\S")


def clean_label(text: str) -> str:
    """A bold label without its colon."""
    return text.strip().rstrip(":").strip()


def typed_sentences(text: str) -> list[str]:
    """Sentences of what a student typed."""
    return [p for p in TYPED_BREAK.split(text.strip()) if p]


def cut_spans(text: str, base: int) -> Iterator[tuple[int, int]]:
    """Spans (offset by ``base``) between the places the chunker may cut a text."""
    start = 0
    for match in CHUNK_CUT.finditer(text):
        yield base + start, base + match.start()
        start = match.end()
    if start < len(text):
        yield base + start, base + len(text.rstrip())


@dataclass(frozen=True)
class Sentence:
    """A plain sentence of a passage and whether it can stand alone as a quoted fact."""

    text: str
    quotable: bool
    #: The bold label of its line ("Expected Initial Salary Ranges"), "" if none.
    label: str = ""
    #: Which line of the passage it is on (sentences of one bullet share it).
    line: int = 0

    @property
    def indexed(self) -> bool:
        """Three words or more: the index holds a vector for it (shorter ones are labels)."""
        return len(self.text.split()) >= 3


def passage_sentences(text: str) -> list[Sentence]:
    """The sentences of ``sentences``, each marked quotable unless it only introduces a list
    ("Key skills:") or its line is nothing but a link (a reading-list entry); each carries
    the bold label of its line."""
    out: list[Sentence] = []
    parents: list[tuple[int, str]] = []  # (indent, label) of the lines a nested bullet sits under
    for number, line in enumerate(text.splitlines()):
        reference = bool(_LINK_LINE.match(line))
        bold = BOLD_LABEL.match(line)
        label = clean_label(plain_text(bold.group(1))) if bold else ""
        term = None if bold else _TERM_LABEL.match(plain_text(line))
        if term and len(term.group(1).split("(")[0].split()) <= 6:  # "(Less common, ...)" aside
            label = term.group(1).strip()
        indent = len(line) - len(line.lstrip())
        while parents and parents[-1][0] >= indent:
            parents.pop()
        if not label and parents:
            label = parents[-1][1]  # a nested bullet without a label of its own: its parent's
        if label and line.strip():
            parents.append((indent, label))
        for part in SENTENCE_BREAK.split(plain_text(line)):
            part = part.strip()
            if len(part) > 2:
                quotable = not reference and not part.endswith(":")
                out.append(Sentence(part, quotable, label, number))
    return out


def sentences(text: str) -> list[str]:
    """Plain sentences of a passage: each line (a bullet) apart, then split at sentence ends."""
    return [s.text for s in passage_sentences(text)]


# ---------------------------------------------------------------- words and stop words

#: bm25s's English stop words: what the BM25 index and its queries leave out.
INDEX_STOPWORDS = "en"
#: bm25s's longer English list (NLTK's: question words, pronouns, auxiliaries too), for
#: telling apart sentences by the words of a question that matter.
QUESTION_STOPWORDS = "en_plus"
#: Words the support check does not count as content: a model sentence may add them freely.
FUNCTION_WORDS = frozenset(
    """a about above after again all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each either even ever
    every for from further had has have having he her here hers him his how i if in into is it
    its itself just me might more most must my no nor not now of off on once only or other our
    out over own per same she should so some such than that the their them then there these
    they this those through to too under until up upon us very via was we were what when where
    which while who whom why will with within would yet you your yours e.g i.e etc""".split()
)
#: Words the answer figures do not count as key terms of an evidence string (README, "Answer
#: figures"); kept as the committed baselines were measured with them.
KEY_TERM_STOPWORDS = frozenset(
    "a an and are as at be but by can for from has have in into is it its of on or such that the "
    "their them these they this those to was were which while with within your you will often "
    "also more most some other than then there when where who how what".split()
)
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9+#'’-]*")
_NUMBER = re.compile(r"\d[\d,.]*\d|\d")
_FIGURE = re.compile(r"\d+(?:[.,]\d+)*")
_TERM = re.compile(r"[a-z][a-z+#./-]*[a-z+#]|[a-z]")


@lru_cache(maxsize=1)
def stemmer() -> Any:
    """The English Snowball stemmer (PyStemmer), loaded once."""
    import Stemmer

    return Stemmer.Stemmer("english")


def bm25_tokenize(
    texts: Sequence[str], *, return_ids: bool = True, stopwords: str = INDEX_STOPWORDS
) -> Any:
    """Tokens for BM25: lower-cased, English stop words out, Snowball-stemmed."""
    import bm25s

    return bm25s.tokenize(
        list(texts),
        stopwords=stopwords,
        stemmer=stemmer(),
        return_ids=return_ids,
        show_progress=False,
    )


def question_words(texts: Sequence[str]) -> list[list[str]]:
    """Each text's stemmed words without ``QUESTION_STOPWORDS``: what a question asks about."""
    if not texts:
        return []
    words: list[list[str]] = bm25_tokenize(
        texts, return_ids=False, stopwords=QUESTION_STOPWORDS
    )
    return words


def content_stems(text: str) -> list[str]:
    """Stemmed content words of a text (``FUNCTION_WORDS`` out), in order."""
    # "front-end" and "frontend" are one word; so are "e-mail" and "email".
    words = [w.lower().strip("'’-").replace("-", "") for w in _TOKEN.findall(text)]
    kept = [w for w in words if len(w) > 1 and w not in FUNCTION_WORDS and not w.isdigit()]
    return list(stemmer().stemWords(kept))


def word_tokens(text: str) -> Iterator[re.Match[str]]:
    """The words of a text (letters, digits, + # ' and -), with where they stand."""
    return _TOKEN.finditer(text)


def numbers(text: str) -> set[str]:
    """The numbers of a text, thousands separators and trailing dots dropped."""
    return {n.replace(",", "").rstrip(".") for n in _NUMBER.findall(text)}


def terms(folded: str) -> tuple[set[str], set[str]]:
    """The number strings and words of a folded text, as the answer figures match evidence."""
    return set(_FIGURE.findall(folded)), set(_TERM.findall(folded))


def key_terms(evidence: str) -> tuple[set[str], set[str]]:
    """Numbers and content words of an evidence string."""
    found, words = terms(fold(evidence))
    return found, {w for w in words if len(w) >= 4 and w not in KEY_TERM_STOPWORDS}


# ---------------------------------------------------------------- citation markers

#: A citation marker in an answer: ``[1]`` .. ``[999]``.
CITATION = re.compile(r"\[(\d{1,3})\]")


def strip_citations(text: str) -> str:
    """The text without its citation markers (nothing else changed)."""
    return CITATION.sub("", text)


def cited_numbers(text: str) -> list[int]:
    """Citation numbers in order of first use."""
    seen: list[int] = []
    for m in CITATION.finditer(text):
        n = int(m.group(1))
        if n not in seen:
            seen.append(n)
    return seen
