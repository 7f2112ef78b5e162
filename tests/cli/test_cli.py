"""The ``advisor`` commands, in-process through ``main`` and as real processes, on the fixture
corpus with ``WordsEmbedder`` where the settings would load MiniLM (``fake_wiring``,
``fake_cli``)."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from advisor.cli import main
from advisor.evals.retrieval import METRIC_KEYS

REPO = Path(__file__).resolve().parents[2]
CASES = REPO / "tests" / "fixtures" / "cases.jsonl"
SUMMARY_KEYS = ["n", *METRIC_KEYS, "latency_ms_p50", "latency_ms_p95"]


@pytest.fixture(scope="module")
def cli_index_dir(words_index_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the words index that the commands of this module share."""
    target = tmp_path_factory.mktemp("cli") / "indexes"
    shutil.copytree(words_index_dir, target, symlinks=True)
    return target


@pytest.fixture
def env(command_env: Any, cli_index_dir: Path, fixture_corpus: Path,
        fake_wiring: object) -> dict[str, str]:
    """Settings for the commands: the fixture corpus, the shared index copy, a scratch cwd."""
    values: dict[str, str] = command_env(cli_index_dir, fixture_corpus, copy=False)
    return values


def _error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert lines[0].startswith("advisor: error: ")
    return lines[0]


# ---------------------------------------------------------------- index


def test_index_builds_then_is_up_to_date(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], fixture_corpus: Path,
) -> None:
    fresh = tmp_path / "fresh-indexes"
    monkeypatch.setenv("ADVISOR_INDEX_DIR", str(fresh))
    assert main(["index", "--corpus", str(fixture_corpus)]) == 0
    err = capsys.readouterr().err
    assert "from 4 documents" in err and "0 reused" in err
    assert "embedding" in err  # the stages are reported as they start
    assert (fresh / "default" / "manifest.json").is_file()

    assert main(["index", "--corpus", str(fixture_corpus)]) == 0
    assert "is up to date" in capsys.readouterr().err

    assert main(["index", "--corpus", str(fixture_corpus), "--force"]) == 0
    assert "chunks from 4 documents" in capsys.readouterr().err


def test_index_force_reuses_every_vector(
    env: dict[str, str], capsys: pytest.CaptureFixture[str], fixture_corpus: Path
) -> None:
    assert main(["index", "--corpus", str(fixture_corpus), "--force"]) == 0
    assert "(0 embedded," in capsys.readouterr().err


def test_index_reports_skipped_files(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, corpus_copy: Path,
    capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:
    monkeypatch.setenv("ADVISOR_INDEX_DIR", str(tmp_path / "idx"))
    (corpus_copy / "5-Broken.md").write_bytes(b"no front matter here\n")
    shutil.copytree(Path(env["ADVISOR_INDEX_DIR"]), tmp_path / "idx", symlinks=True)
    assert main(["index", "--corpus", str(corpus_copy)]) == 0
    err = capsys.readouterr().err
    assert "skipped 5-Broken.md: has no YAML front matter" in err


def test_index_of_a_missing_folder_is_exit_2(
    env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["index", "--corpus", str(tmp_path / "nowhere")]) == 2
    captured = capsys.readouterr()
    assert "does not exist" in _error_line(captured.err)
    assert captured.out == ""


# ---------------------------------------------------------------- search


def test_search_json(env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "How", "do", "beekeepers", "treat", "varroa", "mites?", "--json", "-k",
                 "3"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["careers"] == ["Beekeeper"]
    assert len(out["hits"]) == 3
    top = out["hits"][0]
    assert top["doc_id"] == "2-Beekeeper" and "oxalic acid" in top["text"]
    assert set(top) >= {"rank", "score", "chunk_id", "heading_path", "start", "end"}
    assert [h["rank"] for h in out["hits"]] == [1, 2, 3]


def test_search_plain_text(env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["search", "glassblower", "salary"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(" 1. [")
    assert "3. Glassblower > Getting Started > Entry-Level Positions" in out


def test_interactive_search_until_eof(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(
        "tell me about cartographers\nhow much do they earn at first?\n"))
    assert main(["search", "-k", "2"]) == 0
    captured = capsys.readouterr()
    assert captured.out.count("search> ") == 3  # two questions, then end of input
    assert ("(searching as: tell me about cartographers how much do they earn at first? - about "
            "Cartographer / Map Maker)") in captured.err
    assert "2,300 ducats" in captured.out


def test_interactive_search_stops_at_an_empty_line(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("\nnever asked\n"))
    assert main(["search"]) == 0
    assert "never asked" not in capsys.readouterr().out


def test_search_without_an_index_is_exit_2(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ADVISOR_INDEX_DIR", str(tmp_path / "empty"))
    assert main(["search", "anything"]) == 2
    assert "advisor index" in _error_line(capsys.readouterr().err)


def test_search_as_a_real_process(env: dict[str, str], tmp_path: Path,
                                  fake_cli: list[str]) -> None:
    result = subprocess.run(
        [*fake_cli, "search", "--json", "what does a junior cartographer earn?"],
        cwd=tmp_path, env={**os.environ, **env}, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["hits"][0]["doc_id"] == "4-Cartographer"
    assert "Traceback" not in result.stderr


def test_an_error_as_a_real_process(env: dict[str, str], tmp_path: Path) -> None:
    exe = shutil.which("advisor", path=str(Path(sys.executable).parent))
    cmd = [exe] if exe else [sys.executable, "-m", "advisor.cli"]
    result = subprocess.run(
        [*cmd, "index", "--corpus", str(tmp_path / "nowhere")],
        cwd=tmp_path, env={**os.environ, **env}, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 2
    assert "does not exist" in _error_line(result.stderr)


# ---------------------------------------------------------------- eval


def test_eval_all_retrievers_json(
    env: dict[str, str], capsys: pytest.CaptureFixture[str], fixture_corpus: Path
) -> None:
    args = ["eval", str(CASES), "--corpus", str(fixture_corpus), "--retriever", "all", "--json"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert sorted(out) == ["bm25", "dense", "hybrid"]
    for name, summary in out.items():
        assert list(summary) == [*SUMMARY_KEYS, "by_kind", "manifest"], name
        assert summary["n"] == 6
        for key in METRIC_KEYS:
            assert 0.0 <= summary[key] <= 1.0
        assert summary["latency_ms_p50"] <= summary["latency_ms_p95"]


def test_eval_one_retriever_writes_trec_run_and_report(
    env: dict[str, str], capsys: pytest.CaptureFixture[str], fixture_corpus: Path, tmp_path: Path
) -> None:
    run, report = tmp_path / "out" / "run.trec", tmp_path / "report"
    args = ["eval", str(CASES), "--corpus", str(fixture_corpus), "--retriever", "hybrid",
            "--json", "--trec-run", str(run), "--report", str(report)]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert list(json.loads(captured.out))[: len(SUMMARY_KEYS)] == SUMMARY_KEYS
    rows = [line.split() for line in run.read_text(encoding="utf-8").splitlines()]
    assert rows and all(len(r) == 6 and r[5] == "advisor-hybrid" for r in rows)
    assert {r[0] for r in rows} == {"f001", "f002", "f003", "f004", "c001", "c002"}
    assert (report / "report.md").read_text(encoding="utf-8").startswith(
        "# Retrieval report: cases.jsonl")
    assert (report / "hit_at_k.png").read_bytes()[:4] == b"\x89PNG"
    assert "report written to" in captured.err


def test_eval_table(
    env: dict[str, str], capsys: pytest.CaptureFixture[str], fixture_corpus: Path
) -> None:
    assert main(["eval", str(CASES), "--corpus", str(fixture_corpus), "--retriever", "bm25"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["retriever", "n", "hit@1"]
    assert lines[1].split()[:2] == ["bm25", "6"]


def test_eval_with_a_bad_case_file_is_exit_2(
    env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str], fixture_corpus: Path
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(CASES.read_text(encoding="utf-8") + "{oops\n", encoding="utf-8")
    assert main(["eval", str(bad), "--corpus", str(fixture_corpus)]) == 2
    captured = capsys.readouterr()
    assert "bad.jsonl:7: not a valid case" in _error_line(captured.err)
    assert captured.out == ""


# ---------------------------------------------------------------- corpus sync


def test_corpus_sync_from_a_mirror(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], shared_corpus: Path,
) -> None:
    monkeypatch.setenv("ADVISOR_CORPUS_MANIFEST", str(REPO / "corpus" / "manifest.json"))
    target = tmp_path / "synced"
    assert main(["corpus", "sync", "--from", str(shared_corpus), "--corpus", str(target)]) == 0
    assert "35 file(s) written" in capsys.readouterr().err
    assert main(["corpus", "sync", "--from", str(shared_corpus), "--corpus", str(target)]) == 0
    assert "0 file(s) written" in capsys.readouterr().err
