"""``advisor ask``, ``advisor chat`` and ``advisor eval-answers`` on the fixture corpus, with
``WordsEmbedder`` where the settings would load MiniLM; one ``ask`` runs the real stack."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from advisor.cli import main
from advisor.evals.answers import ANSWER_KEYS

REPO = Path(__file__).resolve().parents[2]
CASES = REPO / "tests" / "fixtures" / "cases.jsonl"


@pytest.fixture
def env(command_env: Any, words_index_dir: Path, fixture_corpus: Path,
        fake_wiring: object) -> dict[str, str]:
    # Word-count vectors sit lower than MiniLM's (see make_service in conftest).
    values: dict[str, str] = command_env(
        words_index_dir, fixture_corpus, ADVISOR_MAX_ANSWER_TOKENS="16",
        ADVISOR_REFUSAL_THRESHOLD="0.2", ADVISOR_REFUSAL_THRESHOLD_NAMED="0.1")
    return values


@pytest.fixture
def real_env(command_env: Any, fixture_index_dir: Path,
             fixture_corpus: Path) -> dict[str, str]:
    values: dict[str, str] = command_env(fixture_index_dir, fixture_corpus,
                                         ADVISOR_MAX_ANSWER_TOKENS="16")
    return values


def test_ask_json_extractive(env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["ask", "How much does an assistant lighthouse keeper earn at the start?",
                 "--json", "--mode", "extractive"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert set(out) >= {"answer", "details", "citations", "careers", "suggestions", "kind",
                        "refused", "mode", "timings"}
    assert set(out["timings"]) == {"retrieval_ms", "first_token_ms", "total_ms"}
    assert out["mode"] == "extractive" and out["refused"] is False
    assert "28,500 crowns" in out["answer"]
    assert out["citations"][0]["doc_id"] == "1-Lighthouse_Keeper"
    assert out["citations"][0]["url"].startswith("https://")


def test_ask_generative_with_the_real_model(real_env: dict[str, str],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "Why does a glassblower cool finished pieces slowly?"]) == 0
    out = capsys.readouterr().out
    assert "annealing" in out and "Sources:" in out and "[1]" in out
    assert "You could ask next:" in out


def test_ask_hi_is_small_talk_not_a_refusal(env: dict[str, str],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "hi", "--json", "--mode", "extractive"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["refused"] is False and out["kind"] == "smalltalk"
    assert out["answer"].startswith("Hi! I'm a career advisor") and len(out["answer"]) < 500
    assert out["citations"] == [] and out["suggestions"]


def test_ask_off_topic_is_refused(env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ask", "What is a good recipe for banana bread?", "--json",
                 "--mode", "extractive"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["refused"] is True and out["citations"] == []


def test_chat_in_a_terminal_streams_and_follows_up(env: dict[str, str],
                                                   fake_cli: list[str]) -> None:
    lines = "I'd like to work as a glassblower. What does the job involve?\n" \
            "and what would I be paid in my first year?\n/sources\n"
    run = subprocess.run([*fake_cli, "chat", "--mode", "extractive"],
                         input=lines, capture_output=True, text=True, timeout=180,
                         env={**os.environ, **env})
    assert run.returncode == 0, run.stderr
    assert "1,650 florins" in run.stdout
    assert "3. Glassblower" in run.stdout  # /sources lists the passages with their headings


def test_eval_answers_json_keys(env: dict[str, str], capsys: pytest.CaptureFixture[str],
                                tmp_path: Path) -> None:
    offtopic = tmp_path / "offtopic.jsonl"
    offtopic.write_text('{"id": "o1", "question": "Who won the 2022 FIFA World Cup?"}\n')
    fit = tmp_path / "fit.jsonl"
    fit.write_text('{"id": "fit1", "question": "I love bees, honey and flowers. Which job would '
                   'suit me?", "acceptable": ["2-Beekeeper.md"], "kind": "fit"}\n')
    per_case = tmp_path / "reports" / "answers.jsonl"
    code = main(["eval-answers", str(CASES), "--offtopic", str(offtopic), "--fit", str(fit),
                 "--mode", "extractive", "--json", "--cases-out", str(per_case)])
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 0
    assert list(out) == [*ANSWER_KEYS, "manifest"]
    assert out["citation_valid"] == 1.0 and out["refusal_rate_offtopic"] == 1.0
    assert out["evidence_in_answer"] >= 0.5 and out["evidence_in_lead"] >= 0.5
    assert out["stream_equals_final"] == 1.0 and out["unsupported_rate"] == 0.0
    assert out["fit_hit@3"] == 1.0 and out["model_sentence_share"] is None
    assert 0 < out["answer_chars_p50"] <= out["answer_chars_p90"] <= 800
    records = [json.loads(line) for line in per_case.read_text().splitlines()]
    assert len(records) == out["n"] and records[-1]["id"] == "fit1"
    assert records[-1]["careers"][0] == "2-Beekeeper" and records[-1]["fit_hit"]
    assert records[-2]["refused"] and not records[-2]["answerable"]
    answered = [r for r in records if r["answerable"] and r["fit_hit"] is None]
    share = sum(r["evidence_in_answer"] for r in answered) / len(answered)
    assert round(share, 4) == out["evidence_in_answer"]
    assert all(r["answer"] and r["retrieved"] and "total_ms" in r["timings"] for r in answered)
    assert all({"lead", "details", "careers", "suggestions", "dropped"} <= set(r)
               for r in records)
    assert all(r["lead"] in r["answer"] for r in answered)
