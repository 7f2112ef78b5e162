"""Building, refusing and refreshing the FAISS + BM25 index: on ``WordsEmbedder`` (the fixture
corpus's words index), and once with the real MiniLM (``model``)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from advisor.config import Settings
from advisor.corpus.chunking import ChunkerSettings, chunk_corpus
from advisor.corpus.documents import load_corpus
from advisor.embeddings.embedder import Embedder, Vectors
from advisor.errors import IndexCorruptError, IndexMismatchError, IndexMissingError
from advisor.index import Index, build_faiss, load_index


def _load(index_dir: Path, embedder: Embedder, chunker: ChunkerSettings | None = None) -> Index:
    return load_index(
        index_dir,
        "default",
        embedder=embedder,
        chunker=chunker
        or ChunkerSettings(max_tokens=Settings.model_fields["chunk_tokens"].default),
    )


class OtherEmbedder:
    """Stands for an index built with another model: only its name and size matter here."""

    def __init__(self, name: str, dim: int) -> None:
        self.name = name
        self.dim = dim

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> Vectors:
        return np.zeros((len(texts), self.dim), dtype=np.float32)

    def embed_query(self, text: str) -> Vectors:
        return np.zeros(self.dim, dtype=np.float32)


class RecordingEmbedder:
    """Wraps a real embedder and records every passage text it is asked to embed.

    With ``fail_on`` set, that call to ``embed`` raises instead, as a crash would.
    """

    def __init__(self, inner: Embedder, fail_on: int = 0) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.fail_on = fail_on
        self.calls = 0
        self.texts: list[str] = []

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> Vectors:
        self.calls += 1
        if self.calls == self.fail_on:
            raise RuntimeError("embedder died half-way through the build")
        self.texts.extend(texts)
        return self.inner.embed(texts, progress=progress)

    def embed_query(self, text: str) -> Vectors:
        return self.inner.embed_query(text)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def _hidden_builds(index_dir: Path) -> list[Path]:
    return [p for p in index_dir.iterdir() if p.name.startswith(".") and p.is_dir()]


# ---------------------------------------------------------------- build and load


def test_built_index_loads_with_its_manifest(
    words_index_dir: Path, words_embedder: Embedder, fixture_corpus: Path, chunker: ChunkerSettings
) -> None:
    index = _load(words_index_dir, words_embedder)
    documents = load_corpus(fixture_corpus).documents
    expected = chunk_corpus(documents, chunker)
    assert [c.chunk_id for c in index.chunks] == [c.chunk_id for c in expected]
    assert index.chunks == expected
    assert index.vectors.shape == (len(expected), words_embedder.dim)
    assert index.vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(index.vectors, axis=1), 1.0, atol=1e-4)
    assert index.faiss_index.ntotal == len(expected)
    assert set(index.documents) == {d.doc_id for d in documents}
    assert index.by_id[expected[3].chunk_id] == 3

    m = index.manifest
    assert m["embedder"] == {"name": "words-test", "dim": words_embedder.dim}
    assert m["chunker"] == chunker.as_dict()
    assert m["documents"] == {d.doc_id: d.content_hash for d in documents}
    assert m["n_chunks"] == len(expected)
    assert m["ann"] == "flat"
    for lib in ("faiss-cpu", "bm25s", "sentence-transformers", "torch"):
        assert m["libraries"][lib] not in ("", "absent"), lib
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", m["built_at"])
    # The name is a link to a versioned folder, swapped in whole.
    assert (words_index_dir / "default").is_symlink()
    assert _hidden_builds(words_index_dir) == [(words_index_dir / "default").resolve()]


def test_stored_vectors_are_the_embedder_s(words_index_dir: Path, words_embedder: Embedder) -> None:
    from advisor.corpus.chunking import search_text

    index = _load(words_index_dir, words_embedder)
    again = words_embedder.embed([search_text(c) for c in index.chunks[:3]])
    assert np.allclose(again, index.vectors[:3], atol=1e-5)


def test_the_minilm_index_holds_the_model_s_vectors(
    fixture_index_dir: Path, embedder: Embedder
) -> None:
    from advisor.corpus.chunking import search_text

    index = _load(fixture_index_dir, embedder)
    assert index.manifest["embedder"] == {"name": "all-MiniLM-L6-v2", "dim": 384}
    assert index.vectors.shape == (len(index.chunks), 384) and index.vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(index.vectors, axis=1), 1.0, atol=1e-4)
    again = embedder.embed([search_text(c) for c in index.chunks[:3]])
    assert np.allclose(again, index.vectors[:3], atol=1e-5)


@pytest.mark.parametrize("kind", ["hnsw", "ivf"])
def test_approximate_indexes_agree_with_flat_on_a_small_index(
    words_index_dir: Path, words_embedder: Embedder, kind: str
) -> None:
    vectors = _load(words_index_dir, words_embedder).vectors
    queries = vectors[:5]
    _, flat = build_faiss(vectors, "flat").search(queries, 1)
    _, approx = build_faiss(vectors, kind).search(queries, 1)
    assert flat[:, 0].tolist() == approx[:, 0].tolist() == list(range(5))
    with pytest.raises(ValueError, match="unknown ANN kind"):
        build_faiss(vectors, "lsh")


# ---------------------------------------------------------------- refusing an index


def test_missing_index(tmp_path: Path, words_embedder: Embedder) -> None:
    with pytest.raises(IndexMissingError, match="advisor index"):
        _load(tmp_path, words_embedder)


@pytest.mark.parametrize("max_tokens", [48, 200])
def test_other_chunker_settings_are_refused(
    words_index_dir: Path, words_embedder: Embedder, max_tokens: int
) -> None:
    with pytest.raises(IndexMismatchError) as info:
        _load(words_index_dir, words_embedder, ChunkerSettings(max_tokens=max_tokens))
    assert "chunker" in str(info.value)
    assert "rebuild it with `advisor index`" in str(info.value)


@pytest.mark.parametrize(("name", "dim"), [("other-model", 8192), ("words-test", 384)])
def test_another_embedder_is_refused(words_index_dir: Path, name: str, dim: int) -> None:
    with pytest.raises(IndexMismatchError) as info:
        _load(words_index_dir, OtherEmbedder(name, dim))
    assert "embedder" in str(info.value)
    assert "`advisor index`" in str(info.value)


def test_a_deleted_faiss_file_is_corruption(
    words_index_copy: Path, words_embedder: Embedder
) -> None:
    (words_index_copy / "default" / "dense.faiss").unlink()
    with pytest.raises(IndexCorruptError, match=r"dense\.faiss.*advisor index"):
        _load(words_index_copy, words_embedder)


def test_any_deleted_file_is_corruption(
    words_index_dir: Path, words_embedder: Embedder, tmp_path: Path
) -> None:
    names = sorted(p.name for p in (words_index_dir / "default").iterdir())
    assert "manifest.json" in names and len(names) > 3
    for name in names:
        if name == "manifest.json":
            continue  # without a manifest the folder is an unfinished build: "missing"
        copy = tmp_path / name
        shutil.copytree(words_index_dir, copy, symlinks=True)
        victim = copy / "default" / name
        shutil.rmtree(victim) if victim.is_dir() else victim.unlink()
        with pytest.raises(IndexCorruptError, match="advisor index"):
            _load(copy, words_embedder)


def test_a_truncated_chunk_file_is_corruption(
    words_index_copy: Path, words_embedder: Embedder
) -> None:
    path = words_index_copy / "default" / "chunks.jsonl"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # cut in the middle of a line
    with pytest.raises(IndexCorruptError, match="advisor index"):
        _load(words_index_copy, words_embedder)


def test_a_chunk_file_missing_lines_is_corruption(
    words_index_copy: Path, words_embedder: Embedder
) -> None:
    path = words_index_copy / "default" / "chunks.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:-2]), encoding="utf-8")  # whole lines gone: valid JSON
    with pytest.raises(IndexCorruptError, match="inconsistent sizes"):
        _load(words_index_copy, words_embedder)


def test_an_unreadable_manifest_is_corruption(
    words_index_copy: Path, words_embedder: Embedder
) -> None:
    (words_index_copy / "default" / "manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(IndexCorruptError):
        _load(words_index_copy, words_embedder)


# ---------------------------------------------------------------- rebuilding


def test_no_change_rebuild_is_up_to_date(
    words_index_copy: Path, words_embedder: Embedder, build_fixture_index
) -> None:
    before = os.readlink(words_index_copy / "default")
    recorder = RecordingEmbedder(words_embedder)
    started = time.perf_counter()
    report = build_fixture_index(words_index_copy, embedder=recorder)
    assert report.up_to_date
    assert report.embedded == 0 and recorder.calls == 0
    assert report.n_chunks == len(_load(words_index_copy, words_embedder).chunks)
    assert time.perf_counter() - started < 5  # nothing chunked, embedded or written
    assert os.readlink(words_index_copy / "default") == before


def test_a_forced_rebuild_of_an_unchanged_corpus_embeds_nothing(
    words_index_copy: Path, words_embedder: Embedder, build_fixture_index
) -> None:
    recorder = RecordingEmbedder(words_embedder)
    report = build_fixture_index(words_index_copy, embedder=recorder, force=True)
    assert not report.up_to_date
    assert recorder.texts == [] and report.embedded == 0


def test_changing_one_document_reembeds_only_its_changed_chunks(
    words_index_copy: Path, corpus_copy: Path, words_embedder: Embedder, build_fixture_index
) -> None:
    old = _load(words_index_copy, words_embedder)
    _edit(corpus_copy / "2-Beekeeper.md", "Moving slowly and calmly", "Moving slowly and quietly")
    recorder = RecordingEmbedder(words_embedder)
    report = build_fixture_index(words_index_copy, corpus_copy, embedder=recorder)
    assert not report.up_to_date
    # Only texts holding the edited words are embedded again; everything else is reused.
    assert recorder.texts, "the changed chunk is embedded"
    assert all("quietly" in t for t in recorder.texts), recorder.texts
    assert report.embedded == len(recorder.texts)
    assert report.reused > 10 * report.embedded
    assert report.n_chunks == len(old.chunks)
    assert report.removed_documents == ()
    new = _load(words_index_copy, words_embedder)
    old_vectors = {c.chunk_id: old.vectors[i] for i, c in enumerate(old.chunks)}
    changed = [c for c in new.chunks if c.chunk_id not in old_vectors]
    assert [c.doc_id for c in changed] == ["2-Beekeeper"]
    assert "calmly" not in changed[0].text and "quietly" in changed[0].text
    for i, c in enumerate(new.chunks):
        if c.chunk_id in old_vectors:
            assert np.array_equal(new.vectors[i], old_vectors[c.chunk_id])
    assert new.manifest["documents"]["2-Beekeeper"] != old.manifest["documents"]["2-Beekeeper"]
    # The superseded build is cleaned away: one versioned folder remains.
    assert len(_hidden_builds(words_index_copy)) == 1


def test_removing_a_document_drops_its_chunks(
    words_index_copy: Path, corpus_copy: Path, words_embedder: Embedder, build_fixture_index
) -> None:
    old = _load(words_index_copy, words_embedder)
    (corpus_copy / "3-Glassblower.md").unlink()
    recorder = RecordingEmbedder(words_embedder)
    report = build_fixture_index(words_index_copy, corpus_copy, embedder=recorder)
    assert report.removed_documents == ("3-Glassblower",)
    # Nothing new to embed: every remaining vector is reused.
    assert recorder.texts == [] and report.embedded == 0
    new = _load(words_index_copy, words_embedder)
    assert "3-Glassblower" not in new.documents
    assert not [c for c in new.chunks if c.doc_id == "3-Glassblower"]
    kept = [c.chunk_id for c in old.chunks if c.doc_id != "3-Glassblower"]
    assert [c.chunk_id for c in new.chunks] == kept
    assert new.faiss_index.ntotal == len(kept)


def test_changing_chunker_settings_rebuilds(
    words_index_copy: Path, words_embedder: Embedder, build_fixture_index
) -> None:
    """`advisor index` must not call an index "up to date" that `load_index` then refuses."""
    other = ChunkerSettings(max_tokens=48)
    report = build_fixture_index(words_index_copy, embedder=words_embedder, chunker=other)
    assert not report.up_to_date
    index = _load(words_index_copy, words_embedder, other)
    assert index.manifest["chunker"] == other.as_dict()


# ---------------------------------------------------------------- a build that dies


def test_a_build_whose_embedder_raises_leaves_the_old_index(
    words_index_copy: Path, corpus_copy: Path, words_embedder: Embedder, build_fixture_index
) -> None:
    failing = RecordingEmbedder(words_embedder, fail_on=2)
    _edit(corpus_copy / "1-Lighthouse_Keeper.md", "every morning", "every single morning")
    first = build_fixture_index(words_index_copy, corpus_copy, embedder=failing)  # call 1 succeeds
    assert first.embedded > 0 and not first.up_to_date
    good = _load(words_index_copy, words_embedder)
    link = os.readlink(words_index_copy / "default")

    _edit(corpus_copy / "4-Cartographer.md", "easy to read", "easy to read at a glance")
    with pytest.raises(RuntimeError, match="half-way"):
        build_fixture_index(words_index_copy, corpus_copy, embedder=failing)  # call 2 dies
    assert os.readlink(words_index_copy / "default") == link
    after = _load(words_index_copy, words_embedder)
    assert [c.chunk_id for c in after.chunks] == [c.chunk_id for c in good.chunks]
    assert np.array_equal(after.vectors, good.vectors)
    assert after.manifest == good.manifest
    assert len(_hidden_builds(words_index_copy)) == 1


def test_a_build_that_fails_while_writing_leaves_no_half_folder(
    words_index_copy: Path, words_embedder: Embedder, build_fixture_index
) -> None:
    good = _load(words_index_copy, words_embedder)
    link = os.readlink(words_index_copy / "default")
    # An unknown ANN kind fails inside the write step, after the build folder was made.
    with pytest.raises(ValueError, match="unknown ANN kind"):
        build_fixture_index(words_index_copy, embedder=words_embedder, ann="nonsense")
    assert os.readlink(words_index_copy / "default") == link
    assert len(_hidden_builds(words_index_copy)) == 1
    assert [c.chunk_id for c in _load(words_index_copy, words_embedder).chunks] == [
        c.chunk_id for c in good.chunks
    ]


def test_a_killed_advisor_index_process_leaves_the_old_index(
    words_index_copy: Path,
    corpus_copy: Path,
    words_embedder: Embedder,
    tmp_path: Path,
    fake_cli: list[str],
) -> None:
    good = _load(words_index_copy, words_embedder)
    link = os.readlink(words_index_copy / "default")
    # New documents with new titles, so the build has well over a hundred chunks to embed.
    for n in range(3):
        for src in sorted(corpus_copy.glob("[0-9]-*.md")):
            if "-copy" in src.name:
                continue
            text = src.read_text(encoding="utf-8")
            text = re.sub(r'title: "([^"]+)"', rf'title: "\1 (edition {n})"', text, count=1)
            (corpus_copy / f"{src.stem}-copy{n}.md").write_text(text, encoding="utf-8")
    # The fake embedder takes 10 s per batch here: the kill lands inside the embedding.
    env = {
        **os.environ,
        "ADVISOR_CORPUS": str(corpus_copy),
        "ADVISOR_INDEX_DIR": str(words_index_copy),
        "PYTHONUNBUFFERED": "1",
        "FAKE_EMBED_DELAY": "10",
    }
    env.pop("ADVISOR_INDEX_NAME", None)
    env.pop("ADVISOR_CHUNK_TOKENS", None)
    seen: list[str] = []
    with subprocess.Popen(
        [*fake_cli, "index"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            assert proc.stderr is not None
            deadline = time.monotonic() + 120
            for line in proc.stderr:
                seen.append(line)
                if line.startswith("embedding") or time.monotonic() > deadline:
                    break
            time.sleep(0.3)  # well inside the embedding
            proc.send_signal(signal.SIGKILL)
            code = proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    if code != -signal.SIGKILL:
        pytest.skip(f"the build ended (exit {code}) before it could be killed: {seen[-3:]}")
    assert any(line.startswith("embedding") for line in seen), seen
    assert os.readlink(words_index_copy / "default") == link
    after = _load(words_index_copy, words_embedder)
    assert [c.chunk_id for c in after.chunks] == [c.chunk_id for c in good.chunks]
    assert np.array_equal(after.vectors, good.vectors)
    # Whatever the killed process left aside is not the index, and a later build cleans it.
    assert (words_index_copy / "default").resolve() in _hidden_builds(words_index_copy)
