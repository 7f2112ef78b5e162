"""Whether a model's sentence is a clause: it has a verb, not only the passage's noun phrases
in a row ("Cloud Engineers with Cloud Engineering roles, focusing on cloud platform
expertise."). The verbs are those the documents use (after a modal or a subject pronoun) and a
few plain ones a restatement uses; be, have, do and the modals always count."""

from __future__ import annotations

import re
from collections.abc import Sequence

from advisor.text import FUNCTION_WORDS, KEY_TERM_STOPWORDS, strip_citations, word_tokens

#: Verbs of the closed classes (be, have, do, the modals): a sentence with one is a clause.
_AUXILIARY = frozenset("""is are was were be been being am can could will would shall should may
    might must has have had do does did isn't aren't can't won't don't doesn't""".split())
#: Words after which a verb's form is a noun ("the design", "of use"), not a verb.
_NOUN_SLOT = frozenset("""the a an of for in on at by with and or to their its your our this that
    these those from as into his her my any each every some no""".split())
#: Where the documents use a word as a verb: after a modal or a subject pronoun.
_VERB_SLOT = re.compile(r"\b(?:can|could|will|would|should|may|might|must|you|they|we|i)\s+"
                        r"([a-z]{3,})\b", re.I)

#: The verbs among ``PLAIN_WORDS`` (a restatement may say "earn" where the passage says "salary").
PLAIN_VERBS = frozenset("""earn pay help start learn need use make get become come choose want go
    do work know""".split())


def verbs_in(texts: Sequence[str]) -> frozenset[str]:
    """The words texts use as verbs (after a modal or a subject pronoun), function words and
    adverbs left out: the lexicon ``is_clause`` reads a sentence's verb from."""
    found = {m.group(1).lower() for text in texts for m in _VERB_SLOT.finditer(text)}
    return frozenset(w for w in found | PLAIN_VERBS
                     if w not in FUNCTION_WORDS and w not in KEY_TERM_STOPWORDS
                     and not w.endswith("ly") and w not in _NOUN_SLOT)


def is_clause(sentence: str, verbs: frozenset[str]) -> bool:
    """Whether a sentence has a verb: one of be, have, do or a modal, or a word of ``verbs`` (or
    its -s or -ed form) that no article or preposition makes a noun. "Cloud Engineers with Cloud
    Engineering roles, focusing on cloud platform expertise." is a run of noun phrases."""
    words = [m.group(0).lower() for m in word_tokens(strip_citations(sentence))]
    for i, word in enumerate(words):
        if word in _AUXILIARY or word.endswith(("n't", "n’t")):
            return True
        if i and words[i - 1] in _NOUN_SLOT:
            continue
        if any(form in verbs for form in _bases(word)):
            return True
    return False


def _bases(word: str) -> set[str]:
    """A word and the base forms it may inflect ("uses" -> "use", "earned" -> "earn")."""
    out = {word}
    if word.endswith("ies") or word.endswith("ied"):
        out.add(word[:-3] + "y")
    if word.endswith("es") or word.endswith("ed"):
        out |= {word[:-2], word[:-1]}
    elif word.endswith("s") and not word.endswith("ss"):
        out.add(word[:-1])
    return out
