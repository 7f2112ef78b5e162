"""Load career documents (Markdown with YAML front matter) into ``Document`` records."""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from markdown_it import MarkdownIt

from advisor.errors import CorpusError, DocumentError
from advisor.types import Document, Section

log = logging.getLogger(__name__)

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
_TRAILING_PUNCT = re.compile(r"[\s:]+$")
_ANCHOR_DROP = re.compile(r"[^\w\- ]", re.U)


@dataclass(frozen=True)
class LoadReport:
    """Documents that loaded and the files that were skipped, with the reason."""

    documents: tuple[Document, ...]
    skipped: tuple[DocumentError, ...]


def sha256_bytes(data: bytes) -> str:
    """Hex sha256 of some bytes."""
    return hashlib.sha256(data).hexdigest()


def clean_heading(text: str) -> str:
    """A heading as shown in a path: markup and trailing colons removed."""
    text = text.replace("**", "").replace("&nbsp;", " ").strip()
    return _TRAILING_PUNCT.sub("", text).strip()


def slugify(text: str) -> str:
    """The anchor GitHub-flavoured kramdown gives a heading."""
    slug = _ANCHOR_DROP.sub("", text.replace("&nbsp;", " ").lower()).strip()
    return re.sub(r"\s", "-", slug)


def _line_offsets(text: str) -> list[int]:
    offsets = [0]
    for match in re.finditer("\n", text):
        offsets.append(match.end())
    offsets.append(len(text))
    return offsets


def parse_sections(source: str, body_start: int, title: str) -> tuple[Section, ...]:
    """Headings of the body with their paths; a heading repeated right under itself is merged."""
    body = source[body_start:]
    offsets = _line_offsets(body)
    tokens = MarkdownIt("commonmark").parse(body)
    raw: list[tuple[int, str, int, int]] = []  # level, text, start offset, end-of-heading offset
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and token.map:
            text = clean_heading(tokens[i + 1].content)
            if text:
                line_start, line_end = token.map
                raw.append((int(token.tag[1]), text, offsets[line_start], offsets[line_end]))
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    seen_anchors: dict[str, int] = {}
    title_key = clean_heading(title).lower()
    for n, (level, text, start, _head_end) in enumerate(raw):
        previous = raw[n - 1] if n else None
        # kramdown residue: "## X" followed at once by "### X"; keep the inner one only.
        if (
            previous
            and previous[1].lower() == text.lower()
            and previous[0] < level
            and not body[previous[3] : start].strip()
        ):
            if stack and stack[-1][1].lower() == text.lower():
                stack.pop()
            if sections and sections[-1].heading.lower() == text.lower():
                sections.pop()
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, text))
        # The H1 repeats the title (sometimes with a subtitle): the path starts below it.
        path = tuple(t for lvl, t in stack if not (lvl == 1 and t.lower().startswith(title_key)))
        anchor = slugify(text)
        count = seen_anchors.get(anchor, 0)
        seen_anchors[anchor] = count + 1
        if count:
            anchor = f"{anchor}-{count}"
        end = raw[n + 1][2] if n + 1 < len(raw) else len(body)
        sections.append(
            Section(
                level=level,
                heading=text,
                path=path,
                anchor=anchor,
                start=body_start + start,
                end=body_start + end,
            )
        )
    return tuple(sections)


def parse_document(path: Path, *, site_url: str = "") -> Document:
    """Read one Markdown file; raise ``DocumentError`` naming the file and the reason."""
    name = path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DocumentError(name, f"cannot be read ({exc.strerror})") from exc
    if not data.strip():
        raise DocumentError(name, "is empty")
    try:
        source = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DocumentError(name, f"is not UTF-8 (byte {exc.start})") from exc
    match = _FRONT_MATTER.match(source)
    if not match:
        raise DocumentError(name, "has no YAML front matter (--- ... ---)")
    try:
        meta = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        reason = str(exc).splitlines()[0]
        raise DocumentError(name, f"has broken YAML front matter ({reason})") from exc
    if not isinstance(meta, dict):
        raise DocumentError(name, "front matter is not a mapping of keys to values")
    title = str(meta.get("title") or "").strip()
    if not title:
        raise DocumentError(name, "front matter has no title")
    body_start = match.end()
    if not source[body_start:].strip():
        raise DocumentError(name, "has front matter but no text")
    permalink = str(meta.get("permalink") or "").strip()
    url = site_url.rstrip("/") + "/" + permalink.lstrip("/") if permalink and site_url else None
    return Document(
        doc_id=path.stem,
        file_name=name,
        title=title,
        description=str(meta.get("description") or "").strip(),
        url=url,
        source=source,
        content_hash=sha256_bytes(data),
        body_start=body_start,
        sections=parse_sections(source, body_start, title),
    )


def load_corpus(folder: Path, *, site_url: str = "") -> LoadReport:
    """Load every ``*.md`` in a folder; broken files are logged and skipped."""
    if not folder.is_dir():
        raise CorpusError(
            f"corpus folder {folder} does not exist: run `advisor corpus sync` or pass --corpus"
        )
    documents: list[Document] = []
    skipped: list[DocumentError] = []
    for path in sorted(folder.glob("*.md"), key=_natural_key):
        if path.name.lower() == "readme.md":
            continue
        try:
            documents.append(parse_document(path, site_url=site_url))
        except DocumentError as exc:
            log.warning("skipped %s", exc)
            skipped.append(exc)
    if not documents:
        raise CorpusError(f"no usable Markdown documents in {folder}")
    return LoadReport(tuple(documents), tuple(skipped))


def _natural_key(path: Path) -> tuple[int, str]:
    head = re.match(r"\d+", path.name)
    return (int(head.group()) if head else 1_000_000, path.name)
