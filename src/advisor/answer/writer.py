"""The model's part of an answer: a short plain-language sentence (two at most) that answers
from the lead quote, each held back until the support check passes it.

The prompt is tiny on purpose (a small model on a CPU reads ~200 tokens/s): an instruction,
one worked example, the lead quote and the question. The instruction and example never change,
so llama.cpp reuses their evaluated prefix from one request to the next.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from difflib import SequenceMatcher

from advisor.answer.checks import leak_probes, leaks, repeats_question, support
from advisor.answer.clauses import is_clause, verbs_in
from advisor.answer.quotes import Quote
from advisor.config import WriterSettings
from advisor.errors import BusyError
from advisor.llm import Generator, PromptLibrary
from advisor.text import (
    SENTENCE_BREAK,
    content_stems,
    plain_text,
    strip_citations,
    word_tokens,
)
from advisor.types import Dropped

_STOP = ("\n", "<|im_end|>", "<|im_start|>", "Text:", "Question:")
_OPENER = re.compile(r"^\s*(?:(?:the )?answer(?: is)?|a)\s*:\s*", re.I)
_END = re.compile(r"[.!?][\"')\]]*$")
#: "To become a project manager", "move into data analysis": where a sentence says a student goes.
_BECOME = re.compile(
    r"\b(?:becom(?:e|es|ing)|switch(?:es|ing)? (?:in)?to|mov(?:e|es|ing) (?:in)?to"
    r"|transition(?:s|ing)? (?:in)?to)\s+(?:an?\s+|the\s+)?([\w+#./-]+)",
    re.I,
)
#: A sentence with this share of its words in a quote, in the quote's order, is that quote
#: cut down. On dev, kept sentences score either 1.0 (five cut-down copies) or 0.90 and
#: below (restatements): any value in between gives the same answers.
_CUT_DOWN = 0.95


class LeadWriter:
    """Asks the model for a plain answer to the lead quote and checks it sentence by sentence."""

    def __init__(
        self,
        *,
        generator: Generator,
        prompts: PromptLibrary,
        settings: WriterSettings | None = None,
        verbs: frozenset[str] | None = None,
    ) -> None:
        self.generator = generator
        self.prompts = prompts
        self.settings = settings or WriterSettings()
        #: The words the documents use as verbs: a kept sentence must be a clause.
        self.verbs = verbs_in(()) if verbs is None else verbs
        self.examples = list(prompts.data("lead_examples.yaml") or [])
        retries = (prompts.folder / "lead_retries.yaml").is_file()
        self.retries: list[dict[str, str]] = (
            list(prompts.data("lead_retries.yaml") or []) if retries else []
        )
        self.probes = leak_probes(prompts.source("lead_system.j2"))
        for retry in self.retries:
            self.probes += leak_probes(" ".join(map(str, retry.values())))

    def messages(self, question: str, quotes: Sequence[Quote]) -> list[dict[str, str]]:
        """Instruction, worked examples, and the lead quote with the question (within budget)."""
        count = self.generator.count_tokens
        s = self.settings
        if count(question) > s.question_tokens:
            words = question.split()
            while len(words) > 1 and count(" ".join(words)) > s.question_tokens:
                words = words[: int(len(words) * 0.8)]
            question = " ".join(words)
        user = self.prompts.render("lead_user.j2", text=shown(quotes), question=question)
        system = self.prompts.render("lead_system.j2")
        shots: list[dict[str, str]] = []
        for ex in self.examples:
            shot = [
                {"role": "user", "content": self.prompts.render("lead_user.j2", **ex)},
                {"role": "assistant", "content": str(ex["answer"])},
            ]
            used = sum(count(m["content"]) for m in (*shots, *shot))
            if count(system) + count(user) + used > s.prompt_budget:
                break  # the examples go before the question does
            shots += shot
        return [{"role": "system", "content": system}, *shots, {"role": "user", "content": user}]

    def retry(self, attempt: int, question: str, quotes: Sequence[Quote]) -> list[dict[str, str]]:
        """The messages of a later try (``attempt`` >= 1): the task in another wording."""
        messages = self.messages(question, quotes)
        retry = self.retries[attempt - 1]
        user = dict(messages[-1])
        if retry.get("suffix"):
            user["content"] += "\n" + str(retry["suffix"])
        if retry.get("system"):
            return [{"role": "system", "content": str(retry["system"])}, user]
        return [*messages[:-1], user]

    def open(self, question: str, quotes: Sequence[Quote], attempt: int = 0) -> Iterator[str]:
        """Start the model (raises BusyError at once when its queue is full)."""
        return self.generator.stream(
            self.retry(attempt, question, quotes) if attempt else self.messages(question, quotes),
            max_tokens=self.settings.max_tokens,
            stop=_STOP,
            timeout=self.settings.timeout,
        )

    def checked(
        self, pieces: Iterator[str], question: str, quotes: Sequence[Quote]
    ) -> Iterator[tuple[str | None, Dropped | None]]:
        """Each sentence of the model as it completes: (the sentence with its citation, None)
        when it passes, (None, why) when it does not; the model is stopped (and freed) after
        ``sentences`` kept ones. While none has passed, the model tries again in the other
        wordings of ``lead_retries.yaml`` (up to ``attempts`` tries in all; a full queue ends
        the tries). GenerationError passes through."""
        kept = 0
        tries = min(self.settings.attempts, 1 + len(self.retries))
        for attempt in range(tries):
            if attempt:
                try:
                    pieces = self.open(question, quotes, attempt)
                except BusyError:
                    return
            try:
                for sentence in self.sentences(pieces):
                    text, drop = self.judge(sentence, question, quotes)
                    yield text, drop
                    kept += text is not None
                    if kept >= self.settings.sentences:
                        break
            finally:
                close = getattr(pieces, "close", None)
                if close:
                    close()
            if kept:
                return

    def sentences(self, pieces: Iterator[str]) -> Iterator[str]:
        """The model's text cut into sentences as they complete; a cut-off tail is marked by
        ending without a full stop."""
        buffer = ""
        for piece in pieces:
            buffer += piece
            parts = SENTENCE_BREAK.split(buffer)
            for done in parts[:-1]:
                yield done.strip()
            buffer = parts[-1]
        if buffer.strip():
            yield buffer.strip()

    def judge(
        self, sentence: str, question: str, quotes: Sequence[Quote]
    ) -> tuple[str | None, Dropped | None]:
        """The sentence with the citation of the passage that supports it, or why it goes."""
        said = _OPENER.sub("", strip_citations(sentence)).strip()
        said = re.sub(r"\s+([.,;:!?])", r"\1", said)
        if not said:
            return None, None
        if not _END.search(said):
            return None, Dropped(said, "cut off")
        if repeats_question(said, question):
            return None, Dropped(said, "repeats the question")
        if leaks(said, self.probes):
            return None, Dropped(said, "repeats the instructions")
        # Checked against what the model was shown (and where it stands), not the whole
        # passage: words of the passage the model never saw are no support for a claim.
        heading = quotes[0].hit.chunk.heading
        seen = f"{heading}: {plain_text(shown(quotes))}"
        verdict = support(said, seen, question, min_share=self.settings.min_share, heading=heading)
        if not verdict.ok:
            return None, Dropped(said, verdict.reason)
        if not is_clause(said, self.verbs):
            # "Cloud Engineers with Cloud Engineering roles, focusing on ..." holds only the
            # passage's words, but says nothing of them.
            return None, Dropped(said, "not a clause: no verb")
        if goes_elsewhere(said, question, quotes):
            return None, Dropped(said, "another career than the one the passage leads to")
        # Restating the quote in fewer words is the model's job; a sentence that keeps nearly
        # all of a quote's words at nearly its length adds nothing, nor does the quote with
        # some of its words left out (the student reads both, one after the other).
        mine = set(content_stems(said))
        for q in quotes:
            theirs = set(content_stems(q.text)) - set(content_stems(q.label))
            copied = theirs and len(mine & theirs) / len(theirs) >= self.settings.copy_overlap
            if copied and len(said) > self.settings.condense * len(q.text):
                return None, Dropped(said, "repeats the quote")
            if cut_down(said, q.text) >= _CUT_DOWN:
                return None, Dropped(said, "repeats the quote with words left out")
        return f"{said} [{quotes[0].number}]", None


def goes_elsewhere(sentence: str, question: str, quotes: Sequence[Quote]) -> bool:
    """A sentence that has the student become a career other than the one a switching
    passage leads to ("To Program Manager: ..." restated as "To become a project manager"),
    unless the question asks for that same move."""
    targets = {s for q in quotes if q.label.startswith("To ") for s in content_stems(q.label)}
    if not targets:
        return False
    asked = {_first_stem(m) for m in _BECOME.finditer(question)}
    return any(
        (word := _first_stem(m)) and word not in targets and word not in asked
        for m in _BECOME.finditer(sentence)
    )


def _first_stem(match: re.Match[str]) -> str:
    stems = content_stems(match.group(1))
    return stems[0] if stems else ""


def cut_down(sentence: str, quote: str) -> float:
    """The share of a sentence's words that appear in the quote in the same order."""
    said = [m.group(0) for m in word_tokens(sentence.lower())]
    source = [m.group(0) for m in word_tokens(quote.lower())]
    if not said:
        return 0.0
    blocks = SequenceMatcher(None, said, source, autojunk=False).get_matching_blocks()
    return sum(b.size for b in blocks) / len(said)


def shown(quotes: Sequence[Quote]) -> str:
    """The text the model restates: the lead's first line only (the shorter the text, the
    closer a small model keeps to it)."""
    first = [q for q in quotes if q.hit is quotes[0].hit and q.line == quotes[0].line]
    return " ".join(q.text for q in first or quotes)
