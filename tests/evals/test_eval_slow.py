"""Full-corpus checks for evaluators (``-m slow``): the dev figures against the committed
baseline, and the BEIR round trip on the dev cases."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from advisor.cli import main

REPO = Path(__file__).resolve().parents[2]
BASELINE = REPO / "evals" / "baseline.json"
KEYS = ("n", "hit@1", "hit@3", "hit@5", "hit@10", "mrr@10", "ndcg@10")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def full_env(shared_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The shared corpus indexed once for this module, in a scratch index folder."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("ADVISOR_")}
    for key in saved:
        del os.environ[key]
    index_dir = tmp_path_factory.mktemp("full-indexes")
    os.environ.update({"ADVISOR_CORPUS": str(shared_corpus), "ADVISOR_INDEX_DIR": str(index_dir)})
    assert main(["index"]) == 0
    yield index_dir
    for key in [k for k in os.environ if k.startswith("ADVISOR_")]:
        del os.environ[key]
    os.environ.update(saved)


@pytest.mark.parametrize("cases", ["dev_questions", "dev_conversations"])
def test_dev_figures_meet_the_committed_baseline(
    full_env: Path, shared_corpus: Path, cases: str, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = shared_corpus.parents[1] / "bench"
    code = main(["eval", str(bench / f"{cases}.jsonl"), "--retriever", "all",
                 "--baseline", str(BASELINE)])
    err = capsys.readouterr().err
    assert code == 0, err
    assert f"eval {cases} hybrid" in err and "DROP" not in err


def test_round_trip_on_the_dev_cases(
    full_env: Path, shared_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bench = shared_corpus.parents[1] / "bench"
    files = [bench / "dev_questions.jsonl", bench / "dev_conversations.jsonl"]
    both = tmp_path / "dev.jsonl"
    both.write_text("".join(f.read_text(encoding="utf-8") for f in files), encoding="utf-8")
    out = tmp_path / "beir"
    assert main(["export-beir", str(out), *(a for f in files for a in ("--cases", str(f)))]) == 0
    capsys.readouterr()
    assert main(["eval", str(both), "--retriever", "all", "--json"]) == 0
    native = json.loads(capsys.readouterr().out)
    assert main(["eval", "--beir", str(out), "--retriever", "all", "--json"]) == 0
    beir = json.loads(capsys.readouterr().out)
    for mode in ("bm25", "dense", "hybrid"):
        assert beir[mode]["n"] == native[mode]["n"] == 161
        for key in KEYS:
            assert beir[mode][key] == pytest.approx(native[mode][key], abs=0.001), (mode, key)
