"""Builds of one index that overlap: a lock per index name, fsync, and loads that never fail.

The builders are separate processes with a hashing embedder (no model to load), over the
fixture corpus, so three rounds take about a second.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from advisor.config import Settings
from advisor.corpus.chunking import ChunkerSettings
from advisor.corpus.documents import load_corpus
from advisor.errors import IndexBusyError
from advisor.index import build_index, build_lock, load_index

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
sys.path.insert(0, str(FIXTURES))  # the builder processes import it from there too
from hash_embedder import HashEmbedder  # noqa: E402

CHUNKER = ChunkerSettings(max_tokens=Settings.model_fields["chunk_tokens"].default)
ROUNDS = 3

BUILDER = textwrap.dedent('''
import json, os, sys, time
from hash_embedder import HashEmbedder
from pathlib import Path
from advisor.corpus.chunking import ChunkerSettings
from advisor.corpus.documents import load_corpus
from advisor.index import build_index

corpus, index_dir = Path(sys.argv[1]), Path(sys.argv[2])
rounds, tokens = int(sys.argv[3]), int(sys.argv[4])
gate = index_dir.parent / "gate"
documents = load_corpus(corpus).documents
for n in range(rounds):
    # Both builders start each round together, so their builds overlap.
    (gate / f"{n}-{os.getpid()}").touch()
    deadline = time.monotonic() + 120
    while len(list(gate.glob(f"{n}-*"))) < 2:
        if time.monotonic() > deadline:
            sys.exit(f"round {n}: the other builder never came")
        time.sleep(0.005)
    waits = []
    report = build_index(documents, embedder=HashEmbedder(), index_dir=index_dir, force=True,
                         chunker=ChunkerSettings(max_tokens=tokens), on_stage=waits.append)
    print(json.dumps({"round": n, "chunks": report.n_chunks,
                      "waited": [w for w in waits if "waiting" in w]}), flush=True)
''')


def _builder(corpus: Path, index_dir: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(FIXTURES), *sys.path])}
    return subprocess.Popen(
        [sys.executable, "-c", BUILDER, str(corpus), str(index_dir), str(ROUNDS),
         str(CHUNKER.max_tokens)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _folders(index_dir: Path, name: str = "default") -> list[str]:
    return sorted(p.name for p in index_dir.iterdir()
                  if p.is_dir() and not p.is_symlink() and p.name.startswith(f".{name}-"))


def test_concurrent_builds_and_a_reader_never_see_a_broken_index(
    fixture_corpus: Path, tmp_path: Path
) -> None:
    index_dir = tmp_path / "indexes"
    embedder = HashEmbedder()
    documents = load_corpus(fixture_corpus).documents
    build_index(documents, embedder=embedder, index_dir=index_dir, chunker=CHUNKER)

    (tmp_path / "gate").mkdir()
    builders = [_builder(fixture_corpus, index_dir) for _ in range(2)]
    loads, failures, folders = 0, [], set()
    deadline = time.monotonic() + 300
    try:
        while any(b.poll() is None for b in builders) and time.monotonic() < deadline:
            try:
                index = load_index(index_dir, "default", embedder=embedder, chunker=CHUNKER)
                loads += 1
                folders.add(index.folder)
                assert index.folder is not None and index.folder.parent == index_dir
            except Exception as exc:  # noqa: BLE001 - every failed load is counted
                failures.append(f"{type(exc).__name__}: {exc}")
            # A breath between loads: a reader spinning flat out would starve the two builders
            # (and the other test worker) of the machine's two cores; it still loads over a
            # hundred times, and sees every build, while the builds run.
            time.sleep(0.01)
    finally:
        outputs = []
        for b in builders:
            try:
                out, err = b.communicate(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                b.kill()
                out, err = b.communicate()
            outputs.append((b.returncode, out, err))

    for code, out, err in outputs:
        assert code == 0, err[-2000:]
        rounds = [json.loads(line) for line in out.splitlines()]
        assert [r["round"] for r in rounds] == list(range(ROUNDS))
    waited = [w for _, out, _ in outputs for line in out.splitlines()
              for w in json.loads(line)["waited"]]
    print(f"\n{ROUNDS} rounds x 2 builders: {loads} loads, {len(failures)} failed, "
          f"{len(folders)} builds seen, {len(waited)} waits")
    assert failures == []
    assert loads > 0
    assert waited, "the builds never overlapped: the test proved nothing"
    # The waiter says who holds the lock (unless the holder let go while it looked).
    assert all("waiting for the build by" in w for w in waited), waited
    assert any("waiting for the build by process" in w for w in waited), waited
    final = load_index(index_dir, "default", embedder=embedder, chunker=CHUNKER)
    assert len(final.chunks) > 0
    # Superseded builds are gone: only the live folder remains.
    assert _folders(index_dir) == [final.folder.name]  # type: ignore[union-attr]


def test_a_second_build_names_the_holder_of_the_lock(
    fixture_corpus: Path, tmp_path: Path
) -> None:
    index_dir = tmp_path / "indexes"
    documents = load_corpus(fixture_corpus).documents
    said: list[str] = []
    with build_lock(index_dir, "default"):
        with pytest.raises(IndexBusyError) as info:
            build_index(documents, embedder=HashEmbedder(), index_dir=index_dir,
                        chunker=CHUNKER, lock_timeout=0.2, on_stage=said.append)
    assert f"process {os.getpid()} on" in str(info.value)
    assert "waiting for the build by process" in said[0]
    assert not (index_dir / "default").exists()  # nothing was written while it waited
    report = build_index(documents, embedder=HashEmbedder(), index_dir=index_dir,
                         chunker=CHUNKER, lock_timeout=0.2)
    assert report.n_chunks > 0


def test_a_build_removes_only_its_own_name_s_folders(
    fixture_corpus: Path, tmp_path: Path
) -> None:
    index_dir = tmp_path / "indexes"
    documents = load_corpus(fixture_corpus).documents
    embedder = HashEmbedder()
    for name in ("default-b", "default"):
        build_index(documents, embedder=embedder, index_dir=index_dir, name=name, chunker=CHUNKER)
    other = _folders(index_dir, "default-b")
    assert len(other) == 1
    # ".default-b-2025..." also starts with ".default-": a rebuild of default must leave it.
    build_index(documents, embedder=embedder, index_dir=index_dir, chunker=CHUNKER, force=True)
    assert _folders(index_dir, "default-b") == other
    assert load_index(index_dir, "default-b", embedder=embedder, chunker=CHUNKER).chunks


def test_a_build_flushes_its_files_before_the_swap(
    fixture_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import advisor.index.folders as index_module

    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    swapped: list[int] = []
    real_swap = index_module.swap_in

    def swap(link: Path, target: Path) -> None:
        swapped.append(len(synced))
        real_swap(link, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(index_module, "swap_in", swap)
    index_dir = tmp_path / "indexes"
    documents = load_corpus(fixture_corpus).documents
    build_index(documents, embedder=HashEmbedder(), index_dir=index_dir,
                chunker=CHUNKER)
    folder = (index_dir / "default").resolve()
    before = synced[: swapped[0]]
    files = [str(p) for p in folder.rglob("*") if p.is_file()]
    assert set(files) <= set(before), set(files) - set(before)
    assert str(folder) in before  # the folder's entries too
    assert str(index_dir.resolve()) in synced[swapped[0]:]  # and the link's folder after
