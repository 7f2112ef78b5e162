"""The heading-aware chunker: exact spans, token limits, heading paths, stable ids."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from advisor.corpus.chunking import (
    ChunkerSettings,
    chunk_corpus,
    chunk_document,
    count_tokens,
    search_text,
)
from advisor.corpus.documents import load_corpus, parse_document
from advisor.text import passage_sentences, plain_text, sentences
from advisor.types import Chunk, Document

LIMITS = [32, 64, 96, 200]
_ITEM = re.compile(r"^[ \t]*(?:[*+-]|\d+\.)[ \t]+", re.M)


@pytest.fixture(scope="module")
def docs(fixture_corpus: Path) -> dict[str, Document]:
    return {d.doc_id: d for d in load_corpus(fixture_corpus).documents}


def _bullets(doc: Document) -> list[tuple[int, int]]:
    """Spans of the top-level-or-nested list items' first lines (one line each in the fixtures)."""
    spans = []
    for m in _ITEM.finditer(doc.source, doc.body_start):
        end = doc.source.find("\n", m.start())
        spans.append((m.start() + len(m.group()) - len(m.group().lstrip()), end))
    return spans


@pytest.mark.parametrize("limit", LIMITS)
def test_every_chunk_is_its_exact_span(docs: dict[str, Document], limit: int) -> None:
    for doc in docs.values():
        chunks = chunk_document(doc, ChunkerSettings(max_tokens=limit))
        assert chunks
        for c in chunks:
            assert doc.source[c.start : c.end] == c.text
            assert c.doc_id == doc.doc_id and c.title == doc.title
            assert c.text.strip() == c.text and c.text
            assert c.n_tokens == count_tokens(c.text)
            assert c.start >= doc.body_start
        starts = [c.start for c in chunks]
        assert starts == sorted(starts), "chunks follow the document order"
        assert all(a.end <= b.start for a, b in zip(chunks, chunks[1:], strict=False))


@pytest.mark.parametrize("limit", LIMITS)
def test_chunks_respect_the_limit_unless_one_word_is_longer(
    docs: dict[str, Document], limit: int
) -> None:
    for doc in docs.values():
        for c in chunk_document(doc, ChunkerSettings(max_tokens=limit)):
            # The only way over the limit is a single unbreakable word.
            assert c.n_tokens <= limit or len(c.text.split()) == 1, (c.heading, c.n_tokens)


@pytest.mark.parametrize("limit", LIMITS)
def test_a_bullet_is_cut_only_when_it_alone_exceeds_the_limit(
    docs: dict[str, Document], limit: int
) -> None:
    for doc in docs.values():
        chunks = chunk_document(doc, ChunkerSettings(max_tokens=limit))
        for start, end in _bullets(doc):
            inside = [c for c in chunks if c.start < end and start < c.end]
            if count_tokens(doc.source[start:end]) <= limit:
                # A whole bullet that fits sits in exactly one chunk (or is dropped as residue).
                assert len(inside) <= 1, doc.source[start:end][:60]
                if inside:
                    assert inside[0].start <= start and end <= inside[0].end
            else:
                assert len(inside) > 1


def test_a_long_bullet_is_cut_at_sentence_ends(docs: dict[str, Document]) -> None:
    doc = docs["1-Lighthouse_Keeper"]
    limit = 96
    pieces = [c for c in chunk_document(doc, ChunkerSettings(max_tokens=limit))
              if c.heading_path[-1:] == ("A Day on the Rock",)]
    bullet = next(s for s in _bullets(doc) if "A Day on the Rock" in doc.source[s[0] : s[1]])
    assert count_tokens(doc.source[bullet[0] : bullet[1]]) > 200  # the fixture's long bullet
    assert len(pieces) >= 3
    assert pieces[0].start == bullet[0] and pieces[-1].end == bullet[1]
    for piece in pieces[:-1]:
        assert piece.text.endswith((".", "!", "?", ";"))
    # Cutting loses only the whitespace between sentences.
    joined = " ".join(p.text for p in pieces)
    assert joined.split() == doc.source[bullet[0] : bullet[1]].split()


def test_heading_paths_of_the_fixture(docs: dict[str, Document]) -> None:
    # Small enough that every bullet stands alone, so each chunk carries its own bold label.
    chunks = chunk_document(docs["1-Lighthouse_Keeper"], ChunkerSettings(max_tokens=32))
    paths = {c.heading_path for c in chunks}
    salary = next(c for c in chunks if "28,500 crowns" in c.text)
    assert salary.heading_path == (
        "Getting Started", "Entry-Level Positions", "Expected Initial Salary Ranges")
    assert salary.anchor == "entry-level-positions"
    assert salary.heading == ("1. Lighthouse Keeper > Getting Started > Entry-Level Positions"
                              " > Expected Initial Salary Ranges")
    # The bold-only paragraph "**Technical Skills:**" titles the bullets below it.
    radio = next(c for c in chunks if "channel 16" in c.text)
    assert radio.heading_path[:3] == ("Getting Started", "Key Skills Required", "Technical Skills")
    soft = next(c for c in chunks if "Tolerance of Solitude" in c.text)
    assert soft.heading_path[:3] == ("Getting Started", "Key Skills Required", "Soft Skills")
    # The repeated "## X:" / "### X:" residue gives one level, not two.
    assert ("Role Definition & Responsibilities", "Definition") in paths
    assert not any(p[:2] == ("Role Definition & Responsibilities",) * 2 for p in paths)
    # No chunk carries the H1 title in its path, nor the label-only paragraph as text.
    assert not any("1. Lighthouse Keeper" in p for p in paths)
    assert not any(c.text.strip("* :") == "Technical Skills" for c in chunks)


def test_heading_paths_with_the_default_limit(docs: dict[str, Document]) -> None:
    for doc in docs.values():
        chunks = chunk_document(doc)
        salary = next(c for c in chunks if "Expected Initial Salary Ranges" in c.text)
        assert salary.heading_path[:2] == ("Getting Started", "Entry-Level Positions")
        for c in chunks:
            assert c.heading_path, "every fixture chunk sits under a heading"
            assert all(part and not part.endswith(":") for part in c.heading_path)


def test_gpt_prompts_are_left_out_by_default(docs: dict[str, Document]) -> None:
    # "## GPT Prompts" lists prompts for a chatbot, not facts about the career.
    assert "GPT Prompts" in ChunkerSettings().skip_sections
    for doc in docs.values():
        assert ("GPT Prompts",) in {s.path for s in doc.sections}  # the fixture has one
        for c in chunk_document(doc):
            assert "GPT Prompts" not in c.heading_path
            assert not re.search(r'^\d+\. "', c.text, re.M), c.text[:80]


def test_gpt_prompts_when_kept_stay_in_their_own_section(docs: dict[str, Document]) -> None:
    keep = ChunkerSettings(skip_sections=())
    for doc in docs.values():
        prompts = [c for c in chunk_document(doc, keep) if c.heading_path[:1] == ("GPT Prompts",)]
        assert prompts, doc.doc_id
        for c in prompts:
            assert "Future Reading" not in c.text and "example.org" not in c.text
            assert re.match(r'\d+\. "', c.text)
    # Skipping a section is a chunker setting, so the manifest records it.
    assert keep.as_dict() != ChunkerSettings().as_dict()


def test_ids_are_stable_across_runs(docs: dict[str, Document]) -> None:
    first = chunk_corpus(list(docs.values()))
    second = chunk_corpus(list(docs.values()))
    assert [c.chunk_id for c in first] == [c.chunk_id for c in second]
    assert len({c.chunk_id for c in first}) == len(first), "ids are unique"


def test_ids_survive_an_edit_of_another_document(corpus_copy: Path) -> None:
    before = chunk_corpus(load_corpus(corpus_copy).documents)
    path = corpus_copy / "2-Beekeeper.md"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "Patience:** Moving slowly", "Patience:** Moving very slowly"), encoding="utf-8")
    after = chunk_corpus(load_corpus(corpus_copy).documents)
    ids = {c.chunk_id for c in after}
    for c in before:
        if c.doc_id != "2-Beekeeper":
            assert c.chunk_id in ids, c.heading
    changed_before = {c.chunk_id for c in before if c.doc_id == "2-Beekeeper"}
    changed_after = {c.chunk_id for c in after if c.doc_id == "2-Beekeeper"}
    # Only the chunk whose text changed gets a new id.
    assert len(changed_before - changed_after) == 1
    assert len(changed_after - changed_before) == 1
    new = next(c for c in after if c.chunk_id in changed_after - changed_before)
    assert "Moving very slowly" in new.text


def test_ids_do_not_depend_on_offsets(docs: dict[str, Document]) -> None:
    doc = docs["3-Glassblower"]
    # A blank line added before the body shifts every span but changes no chunk's text.
    shifted_source = doc.source[: doc.body_start] + "\n" + doc.source[doc.body_start :]
    shifted = parse_document_from_text(doc, shifted_source)
    a, b = chunk_document(doc), chunk_document(shifted)
    assert [c.chunk_id for c in a] == [c.chunk_id for c in b]
    assert [c.start + 1 for c in a] == [c.start for c in b]


def parse_document_from_text(doc: Document, source: str) -> Document:
    """The same document with another source text, parsed like the loader does."""
    from advisor.corpus.documents import parse_sections

    return replace(doc, source=source,
                   sections=parse_sections(source, doc.body_start, doc.title))


def test_search_text_is_plain_and_names_where_the_chunk_sits(docs: dict[str, Document]) -> None:
    chunk = next(c for c in chunk_document(docs["4-Cartographer"]) if "2,300 ducats" in c.text)
    text = search_text(chunk)
    assert text.startswith("4. Cartographer / Map Maker > Getting Started > Entry-Level Positions")
    assert "**" not in text and "2,300 ducats" in text
    assert plain_text("* **Bold:** a [link](https://x.org) and `code`") == "Bold: a link and code"


def test_a_document_without_headings_keeps_its_first_line(tmp_path: Path) -> None:
    path = tmp_path / "1-Plain.md"
    path.write_text("---\ntitle: Plain\n---\nOne short paragraph.\n\nAnother one.\n",
                    encoding="utf-8")
    chunks: list[Chunk] = chunk_document(parse_document(path))
    assert [c.text for c in chunks] == ["One short paragraph.\n\nAnother one."]
    assert chunks[0].heading_path == ()


def test_a_label_equal_to_its_heading_is_not_repeated(tmp_path: Path) -> None:
    # "### Definition:" then "* **Definition:** ..." (32 chunks of the shared corpus do this).
    path = tmp_path / "1-X.md"
    path.write_text('---\ntitle: "1. X"\n---\n# 1. X\n\n## Role:\n\n### Definition:\n'
                    "* **Definition:** A short definition of the role.\n\n"
                    "### Skills:\n**Skills:**\n* **Python:** code.\n* **SQL:** queries.\n",
                    encoding="utf-8")
    paths = [c.heading_path for c in chunk_document(parse_document(path))]
    assert paths == [("Role", "Definition"), ("Role", "Skills")]


def test_every_chunk_of_the_shared_corpus_is_its_exact_span(shared_corpus: Path) -> None:
    report = load_corpus(shared_corpus)
    assert len(report.documents) == 35 and report.skipped == ()
    chunks = chunk_corpus(report.documents)
    by_id = {d.doc_id: d for d in report.documents}
    assert {c.doc_id for c in chunks} == set(by_id)
    limit = ChunkerSettings().max_tokens
    for c in chunks:
        assert by_id[c.doc_id].source[c.start : c.end] == c.text
        assert c.n_tokens <= limit or len(c.text.split()) == 1
        assert "{:toc}" not in c.text
    assert len({c.chunk_id for c in chunks}) == len(chunks)


def test_lead_ins_and_link_lines_are_not_quotable() -> None:
    text = (
        "**Technical Skills:**\n"
        "* **Queen Rearing:** Raising new queens from the best colonies. It takes a season.\n"
        "1. [The Apiary Almanac](https://example.org/apiary-almanac)\n"
        "- For each role we cover these parts:\n"
    )
    got = [(s.text, s.quotable) for s in passage_sentences(text)]
    assert got == [
        ("Technical Skills:", False),
        ("Queen Rearing: Raising new queens from the best colonies.", True),
        ("It takes a season.", True),
        ("The Apiary Almanac", False),
        ("For each role we cover these parts:", False),
    ]
    assert sentences(text) == [s for s, _ in got]
