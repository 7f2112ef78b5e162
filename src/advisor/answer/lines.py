"""The lead's sentences: the best ones by the ranker's score that fit in the lead's length,
grouped by the line (bullet) they stand on; and a transition item's line with its head."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from advisor.answer.compose_settings import ComposeSettings
from advisor.answer.quotes import Quote, trim
from advisor.text import content_stems


def lead(ranked: Sequence[Quote], question: str, s: ComposeSettings) -> list[Quote]:
    """Up to ``lead_sentences`` of the best sentences, long ones cut to the clauses that answer,
    while they fit in ``lead_chars`` together and score within ``second_margin`` of the best
    (the best always stands; the same sentence from an overlapping passage once). Shown line by
    line in the order of each line's best, in the document's order within a line."""
    asked = set(content_stems(question))
    chosen: list[Quote] = []
    used = 0
    for q in ranked:
        if len(chosen) >= s.lead_sentences or ranked[0].score - q.score > s.second_margin:
            break
        if any(q.text == c.text or same_sentence(q, c) for c in chosen):
            continue
        q = _cut(q, s.trim_chars, asked)
        if chosen and used + len(q.text) > s.lead_chars:
            continue
        chosen.append(q)
        used += len(q.text)
    by_line: dict[tuple[str, int], list[Quote]] = {}
    for q in chosen:
        by_line.setdefault(line_key(q), []).append(q)
    return [q for line in by_line.values() for q in sorted(line, key=lambda q: q.position)]


def same_sentence(a: Quote, b: Quote) -> bool:
    """The same sentence of the same passage (its cut and uncut text alike)."""
    return a.hit.chunk.chunk_id == b.hit.chunk.chunk_id and a.position == b.position


def line_of(best: Quote, ranked: Sequence[Quote], room: int, asked: set[str],
            s: ComposeSettings) -> list[Quote]:
    """``best`` with its line's head and other sentences while they fit in ``room``."""
    lines = {line_key(best): line_head(best, ranked, room, asked, s)}
    fill(lines, ranked, room, asked, s)
    return sorted(lines[line_key(best)], key=lambda q: q.position)


def line_head(best: Quote, ranked: Sequence[Quote], room: int, asked: set[str],
              s: ComposeSettings) -> list[Quote]:
    """``best`` cut to ``trim_chars``, and the sentences before it in its line (its label
    and what follows refers back to) when together they fit in ``head_chars`` (else the
    first of them cut to that length), so the fact stays near the top."""
    before = sorted((q for q in ranked if line_key(q) == line_key(best)
                     and q.position < best.position), key=lambda q: q.position)
    chosen = [_cut(best, s.trim_chars, asked)]
    limit = s.head_chars
    if before and _chars([before]) > limit:
        before = [_cut(before[0], limit, asked)] if s.head_cut else []
    head = _chars([before])
    if before and head <= limit and len(chosen[0].text) + head <= room:
        chosen += before
    return chosen


def fill(lines: dict[tuple[str, int], list[Quote]], ranked: Sequence[Quote], room: int,
         asked: set[str], s: ComposeSettings) -> None:
    """Add the sentences after each line's best, nearest first, until one does not fit: a
    line within ``line_chars``, all lines within ``room``."""
    for key, line in lines.items():
        after = sorted((q for q in ranked if line_key(q) == key
                        and q.position > line[0].position), key=lambda q: q.position)
        for q in after:
            q = _cut(q, s.trim_chars, asked)
            if (_chars([line]) + len(q.text) > s.line_chars
                    or _chars(lines.values()) + len(q.text) > room):
                break
            line.append(q)


def line_key(q: Quote) -> tuple[str, int]:
    """The line (bullet) a quote belongs to: its passage and the line's number there."""
    return q.hit.chunk.chunk_id, q.line


def _chars(lines: Iterable[Sequence[Quote]]) -> int:
    return sum(len(q.text) for line in lines for q in line)


def _cut(q: Quote, limit: int, asked: set[str]) -> Quote:
    return replace(q, text=trim(q.text, q.label, asked, limit)) if limit else q
