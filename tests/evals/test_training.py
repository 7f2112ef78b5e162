"""``advisor train-ranker`` on the fixture corpus with the word-count embedder: the same file
from the same cases, the committed fixture model among them; and the parts of training
(labels, folds grouped by document, held-out figures)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from advisor.cli import main
from advisor.evals import fitting, load_cases, training

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"


@pytest.fixture
def fixture_env(command_env: Any, words_index_dir: Path, fixture_corpus: Path,
                fake_wiring: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """The commands on the fixture corpus and the word-count embedder, from the repository's
    root (the manifest names the case files relative to it)."""
    command_env(words_index_dir, fixture_corpus)
    monkeypatch.chdir(REPO)


def train_fixture(out: Path) -> bytes:
    from conftest import FIXTURE_MODEL_COMMAND

    argv = [str(REPO / a) if a.startswith("tests/") else a for a in FIXTURE_MODEL_COMMAND]
    argv[argv.index("--out") + 1] = str(out)
    assert main(argv) == 0
    return out.read_bytes()


def test_train_ranker_writes_the_same_file_twice(fixture_env: Any, tmp_path: Path) -> None:
    first = train_fixture(tmp_path / "a.json")
    second = train_fixture(tmp_path / "b.json")
    assert first == second
    # ... and the committed fixture model is that file: rebuild it with the command above.
    assert first == (FIXTURES / "answer_model.json").read_bytes(), (
        "tests/fixtures/answer_model.json is stale: run conftest.FIXTURE_MODEL_COMMAND "
        "through tests/fixtures/fake_cli.py")
    manifest = json.loads(first)["manifest"]
    assert {c["path"] for c in manifest["cases"]} >= {"tests/fixtures/cases.jsonl",
                                                      "tests/fixtures/train_cases.jsonl"}
    assert all(len(c["sha256"]) == 64 for c in manifest["cases"])
    assert manifest["counts"]["ranked"] > 40 and manifest["features"]["kind"]


def test_examples_folds_and_held_out_figures(make_service: Any) -> None:
    service = make_service()
    cases = [("train", c) for c in load_cases(FIXTURES / "train_cases.jsonl")]
    examples = training.collect(service, cases)
    pay = next(e for e in examples if e.case_id == "x06")
    assert "pay" in pay.kinds and pay.follows is None  # it names its career
    assert pay.candidates is not None and pay.labels.sum() >= 1
    held = pay.candidates.quotes[int(np.flatnonzero(pay.labels)[0])]
    assert "28,500 crowns" in held.text
    talk = next(e for e in examples if e.case_id == "xc1")
    assert talk.follows is True and talk.before == "What does a cartographer do?"
    folds = training.folds(examples, 3)
    by_doc: dict[str, set[int]] = {}
    for e, f in zip(examples, folds, strict=True):
        by_doc.setdefault(e.group, set()).add(f)
    assert all(len(f) == 1 for f in by_doc.values())  # no document in two folds
    figures = fitting.held_out_figures(fitting.train(examples, embedding=False), examples)
    assert 0 < figures["ranker_top1"] <= figures["ranker_top2"] <= figures["ranker_top3"] <= 1
