"""Nested settings: grouped names, the flat names of before as aliases, clear errors, and the
process-wide knobs every entry point sets."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from advisor.config import LEGACY, Settings, load_settings, settings_reference
from advisor.errors import ConfigError


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("ADVISOR_"):
            monkeypatch.delenv(key)


def test_groups_hold_what_each_part_reads() -> None:
    s = Settings()
    assert (s.retrieval.rrf_k, s.retrieval.mode, s.retrieval.candidates) == (10, "hybrid", 100)
    assert (s.chat.mode, s.chat.top_k, s.chat.writer.max_tokens) == ("generative", 5, 64)
    assert (s.api.port, s.api.max_history_turns, s.api.max_body_bytes) == (8000, 20, 65536)


def test_a_grouped_name_and_its_flat_alias_both_set_a_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ADVISOR_RRF_K", "7")
    monkeypatch.setenv("ADVISOR_MAX_ANSWER_TOKENS", "16")
    monkeypatch.setenv("ADVISOR_RETRIEVER", "bm25")
    s = Settings()
    assert (s.retrieval.rrf_k, s.chat.writer.max_tokens, s.retrieval.mode) == (7, 16, "bm25")
    monkeypatch.setenv("ADVISOR_RETRIEVAL__RRF_K", "9")  # the grouped name wins
    monkeypatch.setenv("ADVISOR_CHAT__WRITER__MAX_TOKENS", "32")
    s = Settings()
    assert (s.retrieval.rrf_k, s.chat.writer.max_tokens) == (9, 32)
    assert s.retrieval.mode == "bm25"  # the other flat names still count


def test_keyword_arguments_take_either_name_and_beat_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ADVISOR_API__RELOAD_S", "3")
    monkeypatch.setenv("ADVISOR_CHAT__TOP_K", "4")
    s = Settings(reload_s=0, mode="extractive", api={"max_wait_s": 9})
    assert (s.api.reload_s, s.api.max_wait_s, s.chat.mode, s.chat.top_k) == (0, 9, "extractive", 4)


def test_every_flat_name_lands_on_a_field() -> None:
    for name, path in LEGACY.items():
        node: object = Settings()
        for part in path:
            assert hasattr(node, part), f"{name} -> {path}"
            node = getattr(node, part)


def test_a_bad_or_unknown_setting_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADVISOR_RRF_K", "ten")
    with pytest.raises(ConfigError, match=r"ADVISOR_RETRIEVAL__RRF_K \(or ADVISOR_RRF_K\)"):
        load_settings()
    monkeypatch.delenv("ADVISOR_RRF_K")
    monkeypatch.setenv("ADVISOR_API__MAX_HISTORY_TURN", "3")  # a typo of a grouped name
    with pytest.raises(ConfigError, match="ADVISOR_API__MAX_HISTORY_TURN: Extra inputs"):
        load_settings()


def test_the_cli_names_a_bad_setting_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from advisor.cli import main

    monkeypatch.setenv("ADVISOR_CHAT__TOP_K", "0")
    assert main(["search", "anything"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("advisor: error: invalid setting ADVISOR_CHAT__TOP_K")
    assert "\n" not in err


def test_the_reference_table_has_a_row_per_leaf_setting() -> None:
    table = settings_reference()
    assert "| `ADVISOR_RETRIEVAL__RRF_K` (`ADVISOR_RRF_K`) | `10` |" in table
    assert "| `ADVISOR_CHAT__WRITER__MAX_TOKENS` (`ADVISOR_MAX_ANSWER_TOKENS`) | `64` |" in table
    assert "| `ADVISOR_API__MAX_BODY_BYTES` | `65536` |" in table
    assert "`ADVISOR_RETRIEVAL` " not in table  # groups are not settings of their own


def test_create_app_sets_the_runtime_knobs_without_the_cli(
    monkeypatch: pytest.MonkeyPatch, make_service: object, tmp_path: Path
) -> None:
    from advisor.api.app import create_app

    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "TOKENIZERS_PARALLELISM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TRANSFORMERS_VERBOSITY", "info")  # one already set is kept
    create_app(make_service(), Settings(query_log=tmp_path / "q.sqlite"))  # type: ignore[operator]
    assert os.environ["HF_HUB_OFFLINE"] == os.environ["TRANSFORMERS_OFFLINE"] == "1"
    assert os.environ["TOKENIZERS_PARALLELISM"] == "false"
    assert os.environ["TRANSFORMERS_VERBOSITY"] == "info"
