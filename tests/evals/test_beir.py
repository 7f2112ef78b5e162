"""BEIR folders: reading (graded qrels, bad lines), the streaming index build, export-beir, and
the round trip export -> eval --beir against the native eval."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from advisor.cli import main
from advisor.corpus.chunking import ChunkerSettings
from advisor.errors import EvaluationError
from advisor.evals.beir import entry_of, iter_entries, judged_queries, load_qrels
from advisor.evals.beir_index import build_beir_index
from advisor.evals.cases import Case
from advisor.evals.retrieval import CaseResult, RunResult, compute_metrics
from advisor.index import load_index
from advisor.types import Chunk, Hit

REPO = Path(__file__).resolve().parents[2]
CASES = REPO / "tests" / "fixtures" / "cases.jsonl"
ROUND_TRIP_KEYS = ("n", "hit@1", "hit@3", "hit@5", "hit@10", "mrr@10", "ndcg@10")


class HashEmbedder:
    """Deterministic vectors from the words of a text (no model): for build tests."""

    name = "hash-embedder"
    dim = 16

    def embed(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                out[i, sum(map(ord, word)) % self.dim] += 1.0
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]


def write_folder(root: Path, passages: list[dict[str, object]], queries: list[dict[str, object]],
                 qrels: str) -> Path:
    (root / "qrels").mkdir(parents=True, exist_ok=True)
    (root / "corpus.jsonl").write_text(
        "".join(json.dumps(p) + "\n" for p in passages), encoding="utf-8")
    (root / "queries.jsonl").write_text(
        "".join(json.dumps(q) + "\n" for q in queries), encoding="utf-8")
    (root / "qrels" / "test.tsv").write_text(qrels, encoding="utf-8")
    return root


# ---------------------------------------------------------------- reading


def test_a_foreign_passage_is_one_chunk_with_its_own_id() -> None:
    entry = entry_of({"_id": 42, "title": "Bees", "text": "Bees make honey."}, "c:1")
    c = entry.chunk
    assert (c.chunk_id, c.doc_id, c.title, c.heading_path, c.text) == (
        "42", "42", "Bees", (), "Bees make honey.")
    assert c.n_tokens > 0 and entry.url is None


def test_export_metadata_restores_the_chunk_exactly() -> None:
    chunk = Chunk("abc", "3-Glassblower", "3. Glassblower", ("Pay", "Junior"), "1,650 florins",
                  10, 23, 5, "pay")
    from advisor.evals.beir import corpus_record

    record = corpus_record(chunk, "https://x/3")
    assert record["title"] == "3. Glassblower > Pay > Junior"
    entry = entry_of(json.loads(json.dumps(record)), "c:1")
    assert entry.chunk == chunk and entry.url == "https://x/3"


def test_qrels_keep_their_grades_and_skip_a_header(tmp_path: Path) -> None:
    path = tmp_path / "q.tsv"
    path.write_text("query-id\tcorpus-id\tscore\nq1\ta\t2\nq1\tb\t1\nq2\tc\t0\n", "utf-8")
    assert load_qrels(path) == {"q1": {"a": 2, "b": 1}, "q2": {"c": 0}}
    path.write_text("q1\ta\tmaybe\n", "utf-8")
    with pytest.raises(EvaluationError, match=r"q\.tsv:1: not a qrels line"):
        load_qrels(path)


def test_graded_judgments_drive_ndcg_and_zero_grades_are_not_relevant() -> None:
    def hit(cid: str, rank: int) -> Hit:
        return Hit(Chunk(cid, cid, cid, (), cid, 0, 1, 1), 1.0 / rank, rank)

    q1, q2 = Case("q1", "one?", (), "", ()), Case("q2", "two?", (), "", ())
    run = RunResult("graded", [
        CaseResult(q1, [hit("b", 1), hit("x", 2), hit("a", 3)], 1, 1.0, "one?"),
        CaseResult(q2, [hit("c", 1)], None, 1.0, "two?"),
    ], qrels={"q1": {"a": 2, "b": 1}, "q2": {"c": 0}})
    m = compute_metrics(run)
    # q1, linear gains: DCG = 1/log2(2) + 2/log2(4) = 2; IDCG = 2/log2(2) + 1/log2(3).
    ndcg_q1 = 2 / (2 + 1 / math.log2(3))
    assert m["ndcg@10"] == pytest.approx(ndcg_q1 / 2, abs=1e-4)  # q2 has nothing relevant
    assert m["hit@1"] == pytest.approx(0.5) and m["mrr@10"] == pytest.approx(0.5)
    assert m["recall@100"] == pytest.approx(0.5) and "doc_hit@5" not in m


def test_bad_corpus_lines_name_file_and_line(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "b", [{"_id": "p1", "text": "fine"}], [], "q\tp1\t1\n")
    with (folder / "corpus.jsonl").open("a", encoding="utf-8") as fh:
        fh.write('{"_id": "p2"}\n{oops\n')
    entries = iter_entries(folder / "corpus.jsonl")
    assert next(entries).chunk.chunk_id == "p1"  # streamed: the bad line is not read yet
    with pytest.raises(EvaluationError, match=r"corpus\.jsonl:2: not a BEIR passage"):
        next(entries)
    (folder / "queries.jsonl").unlink()
    with pytest.raises(EvaluationError, match="lacks queries.jsonl, qrels/dev.tsv"):
        judged_queries(folder, "dev")


def test_judged_queries_are_those_of_the_split(tmp_path: Path) -> None:
    folder = write_folder(
        tmp_path / "b", [{"_id": "p1", "text": "x"}],
        [{"_id": "q1", "text": "one?", "metadata": {"kind": "salary"}},
         {"_id": "q2", "text": "two?"}],
        "query-id\tcorpus-id\tscore\nq1\tp1\t1\n")
    cases, qrels = judged_queries(folder, "test")
    assert [(c.case_id, c.kind) for c in cases] == [("q1", "salary")] and qrels == {"q1": {"p1": 1}}
    (folder / "qrels" / "test.tsv").write_text("q9\tp1\t1\n", encoding="utf-8")
    with pytest.raises(EvaluationError, match="missing from queries.jsonl: q9"):
        judged_queries(folder, "test")


# ---------------------------------------------------------------- the streaming build


def _passages(n: int) -> list[dict[str, object]]:
    words = ["bees", "honey", "glass", "maps", "salary", "skills", "course", "oven"]
    return [{"_id": f"p{i}", "title": f"Doc {i % 7}",
             "text": f"Passage {i} is about {words[i % 8]} and {words[(3 * i) % 8]}. "
                     f"It names {words[(5 * i) % 8]} too, with more words here."}
            for i in range(n)]


def test_the_build_streams_reuses_and_applies_the_ann_setting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_folder(tmp_path / "b", _passages(600), [], "q\tp1\t1\n")
    chunker = ChunkerSettings()
    embedder = HashEmbedder()
    kwargs = {"embedder": embedder, "index_dir": tmp_path / "ix", "name": "b",
              "chunker": chunker}
    first = build_beir_index(folder / "corpus.jsonl", progress=True, batch=64, ann="hnsw",
                             **kwargs)  # type: ignore[arg-type]
    assert not first.up_to_date and first.n_chunks == 600 and first.embedded > 600
    assert "embedding" in capsys.readouterr().err  # the progress bar
    index = load_index(tmp_path / "ix", "b", embedder=embedder, chunker=chunker)
    assert type(index.faiss_index).__name__ == "IndexHNSWFlat"
    assert [c.chunk_id for c in index.chunks[:3]] == ["p0", "p1", "p2"]
    assert len(index.sentence_owner) == 2 * 600  # two sentences per passage
    # Every vector equals the one embedding the text alone would give.
    from advisor.corpus.chunking import search_text

    assert np.allclose(index.vectors[5], embedder.embed([search_text(index.chunks[5])])[0])
    again = build_beir_index(folder / "corpus.jsonl", ann="hnsw", **kwargs)  # type: ignore[arg-type]
    assert again.up_to_date
    with (folder / "corpus.jsonl").open("a", encoding="utf-8") as fh:
        text = "A new passage about ovens. Ovens run very hot."
        fh.write(json.dumps({"_id": "new", "title": "Ovens", "text": text}) + "\n")
    changed = build_beir_index(folder / "corpus.jsonl", ann="hnsw", **kwargs)  # type: ignore[arg-type]
    assert not changed.up_to_date and changed.n_chunks == 601
    assert changed.embedded == 3  # the new passage and its two sentences; the rest reused


def test_a_duplicate_id_stops_the_build_before_any_embedding(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "b", [{"_id": "p", "text": "a"}, {"_id": "p", "text": "b"}],
                          [], "q\tp\t1\n")
    with pytest.raises(EvaluationError, match=r"corpus\.jsonl:2: passage id 'p' appears twice"):
        build_beir_index(folder / "corpus.jsonl", embedder=HashEmbedder(),  # type: ignore[arg-type]
                         index_dir=tmp_path / "ix", name="b", chunker=ChunkerSettings())
    assert not (tmp_path / "ix" / "b").exists()


# ---------------------------------------------------------------- export and round trip


@pytest.fixture
def env(command_env: Any, words_index_dir: Path, fixture_corpus: Path,
        fake_wiring: object) -> Path:
    """The commands on the words index, with WordsEmbedder for MiniLM."""
    return Path(command_env(words_index_dir, fixture_corpus)["ADVISOR_INDEX_DIR"])


def test_export_writes_chunks_queries_and_evidence_judgments(
    env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "beir"
    assert main(["export-beir", str(out), "--cases", str(CASES)]) == 0
    corpus = [json.loads(line) for line in (out / "corpus.jsonl").read_text("utf-8").splitlines()]
    index = json.loads((env / "default" / "manifest.json").read_text(encoding="utf-8"))
    assert len(corpus) == index["n_chunks"]
    first = corpus[0]
    assert first["title"].startswith(first["metadata"]["doc_title"])
    assert set(first["metadata"]) >= {"doc_id", "heading_path", "url"}
    lines = (out / "queries.jsonl").read_text("utf-8").splitlines()
    queries = {q["_id"]: q for q in map(json.loads, lines)}
    talk = queries["c001"]
    assert talk["metadata"]["turns"][0].startswith("I'd like to work as a glassblower")
    assert talk["text"].startswith("I'd like to work as a glassblower")
    assert talk["text"].endswith("paid in my first year?")
    assert queries["f001"]["text"] == queries["f001"]["metadata"]["turns"][-1]
    qrels = load_qrels(out / "qrels" / "test.tsv")
    texts = {p["_id"]: p for p in corpus}
    assert "28,500 crowns" in texts[next(iter(qrels["f001"]))]["text"]
    assert len(qrels) == 6 and "6 queries" in capsys.readouterr().err


def test_round_trip_gives_the_native_figures(
    env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """export-beir then eval --beir equals the native eval (same chunks, index, query text)."""
    out = tmp_path / "beir"
    assert main(["export-beir", str(out), "--cases", str(CASES)]) == 0
    capsys.readouterr()
    assert main(["eval", str(CASES), "--retriever", "all", "--json"]) == 0
    native = json.loads(capsys.readouterr().out)
    assert main(["eval", "--beir", str(out), "--retriever", "all", "--json"]) == 0
    beir = json.loads(capsys.readouterr().out)
    for mode in ("bm25", "dense", "hybrid"):
        assert list(beir[mode])[:11] == [*ROUND_TRIP_KEYS, "recall@100", "map@100",
                                         "latency_ms_p50", "latency_ms_p95"]
        for key in ROUND_TRIP_KEYS:
            assert beir[mode][key] == pytest.approx(native[mode][key], abs=0.001), (mode, key)
        assert beir[mode]["by_kind"].keys() == native[mode]["by_kind"].keys()
        assert beir[mode]["manifest"]["corpus"]["kind"] == "beir"
