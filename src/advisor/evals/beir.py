"""BEIR folders in and out: ``corpus.jsonl``, ``queries.jsonl`` and ``qrels/<split>.tsv``.

In: each corpus line is one passage that becomes one chunk and keeps its ``_id``; its
``title`` heads it. A passage exported by this project also carries ``metadata`` (document id
and title, heading path, span, URL), which rebuilds the chunk exactly; passages of one
``metadata.doc_id`` form one document, so the retriever knows the careers. Qrels may be graded
(0 or below: not relevant). Files are read line by line, never whole.

Out: the index chunks as the corpus (``title`` is the document title and heading path, as the
retriever sees it), the cases as queries and their evidence as binary judgments. A
conversation's query is its condensed standalone question (what the retriever searches); the
turns are kept in ``metadata.turns``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from advisor.corpus import count_tokens
from advisor.errors import EvaluationError
from advisor.evals.cases import Case, jsonl_records
from advisor.evals.retrieval import is_relevant
from advisor.types import HEADING_SEP, Chunk

CORPUS = "corpus.jsonl"
QUERIES = "queries.jsonl"


@dataclass(frozen=True)
class Entry:
    """One corpus line, checked: the chunk it becomes and its document's title and URL."""

    chunk: Chunk
    doc_title: str
    url: str | None


@dataclass(frozen=True)
class ExportReport:
    """What ``export-beir`` wrote."""

    passages: int
    queries: int
    judgments: int
    unjudged: tuple[str, ...]  # cases whose evidence no chunk holds (left out of the qrels)


def folder_files(root: Path, split: str) -> tuple[Path, Path, Path]:
    """The corpus, queries and qrels files of a BEIR folder; a clear error if one is missing."""
    files = (root / CORPUS, root / QUERIES, root / "qrels" / f"{split}.tsv")
    missing = [str(f.relative_to(root)) for f in files if not f.is_file()]
    if missing:
        raise EvaluationError(f"{root} is not a BEIR folder: it lacks {', '.join(missing)}")
    return files


def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Numbered JSON objects of a JSONL file, streamed; blank lines skipped."""
    for n, raw in jsonl_records(path, "a JSON object"):
        if not isinstance(raw, dict):
            raise EvaluationError(f"{path}:{n}: not a JSON object")
        yield n, raw


def entry_of(raw: Mapping[str, Any], where: str, *, count: bool = True) -> Entry:
    """One corpus line as a chunk (``metadata`` from an export restores it exactly); without
    ``count`` a passage lacking ``metadata.n_tokens`` gets 0 tokens (a quicker check)."""
    meta = raw.get("metadata") or {}
    pid, text, title = raw.get("_id"), raw.get("text"), raw.get("title") or ""
    if not isinstance(meta, dict) or pid in (None, "") or not isinstance(text, str):
        raise EvaluationError(f"{where}: not a BEIR passage (needs _id and text)")
    if not isinstance(title, str):
        raise EvaluationError(f"{where}: the title is not a string")
    doc_title = str(meta.get("doc_title") or title)
    path = meta.get("heading_path") or ()
    tokens = meta.get("n_tokens")
    chunk = Chunk(
        chunk_id=str(pid),
        doc_id=str(meta.get("doc_id") or pid),
        title=doc_title,
        heading_path=tuple(str(p) for p in path),
        text=text,
        start=int(meta.get("start", 0)),
        end=int(meta.get("end", len(text))),
        n_tokens=tokens if isinstance(tokens, int) else (count_tokens(text) if count else 0),
        anchor=str(meta.get("anchor") or ""),
    )
    url = meta.get("url")
    return Entry(chunk, doc_title, str(url) if url else None)


def iter_entries(path: Path) -> Iterator[Entry]:
    """The corpus, one checked entry at a time."""
    for n, raw in read_jsonl(path):
        yield entry_of(raw, f"{path}:{n}")


def grouped(raw: Mapping[str, Any]) -> bool:
    """Whether a corpus line names the document it belongs to (an export of this project)."""
    meta = raw.get("metadata")
    return isinstance(meta, dict) and bool(meta.get("doc_id"))


def load_queries(path: Path) -> dict[str, Case]:
    """Queries by id, as standalone cases; ``metadata.kind`` (or ``kind``) is their kind."""
    out: dict[str, Case] = {}
    for n, raw in read_jsonl(path):
        qid, text = raw.get("_id"), raw.get("text")
        if qid in (None, "") or not isinstance(text, str) or not text.strip():
            raise EvaluationError(f"{path}:{n}: not a BEIR query (needs _id and text)")
        meta = raw.get("metadata")
        if not isinstance(meta, dict):
            meta = {}
        kind = str(meta.get("kind") or raw.get("kind") or "")
        out[str(qid)] = Case(str(qid), text, (), "", (), kind)
    return out


def load_qrels(path: Path) -> dict[str, dict[str, int]]:
    """Judgments ``query-id corpus-id score`` (a header line is optional); grades kept."""
    qrels: dict[str, dict[str, int]] = {}
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            for n, row in enumerate(csv.reader(fh, delimiter="\t"), 1):
                if not row or not "".join(row).strip():
                    continue
                if n == 1 and row[0].strip().lower() in {"query-id", "query_id", "qid"}:
                    continue
                try:
                    qid, pid, grade = (c.strip() for c in row)
                    qrels.setdefault(qid, {})[pid] = int(float(grade))
                except ValueError as exc:
                    raise EvaluationError(
                        f"{path}:{n}: not a qrels line (query-id, corpus-id, score)"
                    ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise EvaluationError(f"cannot read {path}: {exc}") from exc
    if not qrels:
        raise EvaluationError(f"{path} holds no judgments")
    return qrels


def judged_queries(root: Path, split: str) -> tuple[list[Case], dict[str, dict[str, int]]]:
    """The queries the split judges (in queries.jsonl order) and their judgments."""
    _, queries_file, qrels_file = folder_files(root, split)
    qrels = load_qrels(qrels_file)
    queries = load_queries(queries_file)
    unknown = sorted(set(qrels) - set(queries))
    if unknown:
        raise EvaluationError(
            f"{qrels_file} judges {len(unknown)} query id(s) missing from {QUERIES}: "
            f"{', '.join(unknown[:5])}"
        )
    return [c for qid, c in queries.items() if qid in qrels], qrels


# ---------------------------------------------------------------- export


def corpus_record(chunk: Chunk, url: str | None) -> dict[str, Any]:
    """A chunk as a corpus line."""
    return {
        "_id": chunk.chunk_id,
        "title": HEADING_SEP.join((chunk.title, *chunk.heading_path)),
        "text": chunk.text,
        "metadata": {
            "doc_id": chunk.doc_id,
            "doc_title": chunk.title,
            "heading_path": list(chunk.heading_path),
            "anchor": chunk.anchor,
            "start": chunk.start,
            "end": chunk.end,
            "n_tokens": chunk.n_tokens,
            "url": url,
        },
    }


def export_beir(
    out: Path,
    *,
    chunks: Sequence[Chunk],
    urls: Mapping[str, str | None],
    cases: Sequence[Case],
    standalone: Callable[[Case], str],
    split: str = "test",
) -> ExportReport:
    """Write ``out`` as a BEIR folder: the chunks, the cases as queries, their judgments."""
    ids = [c.case_id for c in cases]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise EvaluationError(f"case ids appear more than once: {', '.join(twice[:5])}")
    (out / "qrels").mkdir(parents=True, exist_ok=True)
    with (out / CORPUS).open("w", encoding="utf-8") as fh:
        for chunk in chunks:
            record = corpus_record(chunk, urls.get(chunk.doc_id))
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    judgments = 0
    unjudged = []
    with (out / QUERIES).open("w", encoding="utf-8") as qf, (
        out / "qrels" / f"{split}.tsv"
    ).open("w", encoding="utf-8") as rf:
        rf.write("query-id\tcorpus-id\tscore\n")
        for case in cases:
            meta = {"kind": case.group, "turns": [*case.history, case.question],
                    "doc": case.doc, "evidence": list(case.evidence)}
            record = {"_id": case.case_id, "text": standalone(case), "metadata": meta}
            qf.write(json.dumps(record, ensure_ascii=False) + "\n")
            relevant = [c.chunk_id for c in chunks if is_relevant(c, case)]
            if not relevant:
                unjudged.append(case.case_id)
            for chunk_id in relevant:
                rf.write(f"{case.case_id}\t{chunk_id}\t1\n")
            judgments += len(relevant)
    return ExportReport(len(chunks), len(cases), judgments, tuple(unjudged))
