"""``advisor eval`` for evaluators: --compare, saved runs, run manifests, baselines (on the
words index, WordsEmbedder for MiniLM), another embedder beside the real MiniLM (``model``);
``advisor eval-answers --diff``."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from advisor.cli import main

REPO = Path(__file__).resolve().parents[2]
CASES = REPO / "tests" / "fixtures" / "cases.jsonl"


@pytest.fixture
def env(command_env: Any, tmp_path: Path, words_index_dir: Path, fixture_corpus: Path,
        fake_wiring: object) -> Path:
    """The commands on the words index, with WordsEmbedder for MiniLM."""
    values = command_env(words_index_dir, fixture_corpus,
                         ADVISOR_MODEL_CACHE=str(tmp_path / "models"))
    return Path(values["ADVISOR_INDEX_DIR"])


@pytest.fixture
def real_env(command_env: Any, tmp_path: Path, fixture_index_dir: Path,
             fixture_corpus: Path) -> Path:
    """The commands on the MiniLM index, with the real embedders."""
    values = command_env(fixture_index_dir, fixture_corpus,
                         ADVISOR_MODEL_CACHE=str(tmp_path / "models"))
    return Path(values["ADVISOR_INDEX_DIR"])


def test_compare_prints_p_values_and_saved_runs_compare_too(
    env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run.trec"
    args = ["eval", str(CASES), "--retriever", "all", "--compare", "--trec-run", str(run),
            "--report", str(tmp_path / "report")]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Bonferroni over 3 pair(s)" in out and "p x pairs" in out
    assert out.count("bm25  hybrid") + out.count("bm25   hybrid") >= 1
    report = (tmp_path / "report" / "report.md").read_text(encoding="utf-8")
    assert "## Significance" in report and "## By kind of question" in report
    assert "## Run manifest" in report and (tmp_path / "report" / "by_kind.png").is_file()
    assert main([*args[:4], "--compare", "--json", "--stat-test", "student"]) == 0
    figures = json.loads(capsys.readouterr().out)
    test = figures["hybrid"]["significance"]["bm25"]["mrr@10"]
    assert set(test) == {"p_value", "p_bonferroni", "significant", "winner"}
    assert test["p_bonferroni"] == pytest.approx(min(1.0, 3 * test["p_value"]), abs=1e-5)
    # The saved file holds three runs (one per tag): compared without searching again.
    assert main(["eval", str(CASES), "--run", str(run), "--json"]) == 0
    saved = json.loads(capsys.readouterr().out)
    assert sorted(saved) == ["advisor-bm25", "advisor-dense", "advisor-hybrid"]
    assert saved["advisor-hybrid"]["mrr@10"] == pytest.approx(
        figures["hybrid"]["mrr@10"], abs=1e-4)


def test_compare_needs_two_runs_and_eval_needs_one_source(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["eval", str(CASES), "--compare"]) == 2
    assert "--compare needs --retriever all" in capsys.readouterr().err
    assert main(["eval"]) == 2
    assert "give a case file or --beir DIR" in capsys.readouterr().err


def test_every_output_carries_a_run_manifest(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ADVISOR_LLM_API_KEY", "very-secret")
    assert main(["eval", str(CASES), "--retriever", "bm25", "--json"]) == 0
    out = capsys.readouterr().out
    assert "very-secret" not in out
    manifest = json.loads(out)["manifest"]
    assert set(manifest) >= {"command", "git", "settings", "embedder", "llm", "libraries",
                             "corpus", "inputs", "index"}
    assert manifest["command"].startswith("advisor eval ")
    assert manifest["settings"]["llm_api_key"] == "(set)"
    assert len(manifest["git"]["commit"] or "") == 40
    weights = manifest["embedder"]["files"]["model.safetensors"]
    assert len(weights) == 64 and manifest["embedder"]["name"] == "all-MiniLM-L6-v2"
    assert len(manifest["llm"]["sha256"]) == 64
    assert manifest["inputs"][str(CASES)] == hashlib.sha256(CASES.read_bytes()).hexdigest()
    assert manifest["corpus"]["kind"] == "markdown" and len(manifest["corpus"]["sha256"]) == 64
    assert manifest["libraries"]["ranx"] and manifest["index"]["n_chunks"] > 0


def test_baseline_passes_within_tolerance_and_fails_on_a_drop(
    env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = tmp_path / "evals" / "baseline.json"
    args = ["eval", str(CASES), "--retriever", "all"]
    assert main([*args, "--write-baseline", str(base)]) == 0
    data = json.loads(base.read_text(encoding="utf-8"))
    entry = data["entries"]["eval cases hybrid"]
    assert entry["command"] == f"advisor eval {CASES} --retriever all"
    assert entry["tolerance"]["hit@1"] == pytest.approx(1 / 6 + 0.0005, abs=1e-4)
    assert entry["tolerance"]["latency_ms_p50"] is None
    capsys.readouterr()
    assert main([*args, "--baseline", str(base)]) == 0
    assert "ok (tolerance" in capsys.readouterr().err
    # A baseline one case better than today is still met; two cases better is a drop.
    for bump, code in ((1 / 6, 0), (2 / 6, 1)):
        changed = json.loads(base.read_text(encoding="utf-8"))
        figures = changed["entries"]["eval cases dense"]["figures"]
        figures["mrr@10"] = round(min(1.0, figures["mrr@10"]) + bump, 4)
        spoiled = tmp_path / f"spoiled-{code}.json"
        spoiled.write_text(json.dumps(changed), encoding="utf-8")
        assert main([*args, "--baseline", str(spoiled)]) == code
        err = capsys.readouterr().err
        assert ("DROP beyond" in err) == bool(code), err
    assert main(["eval", str(CASES), "--retriever", "bm25", "--baseline",
                 str(tmp_path / "other.json")]) == 2
    assert "holds no entry for eval cases bm25" in capsys.readouterr().err


def test_eval_answers_diff_lists_the_flips(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def write(name: str, rows: list[dict[str, object]]) -> Path:
        path = tmp_path / name
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        return path

    a = write("a.jsonl", [
        {"id": "q1", "answerable": True, "evidence_in_answer": True, "refused": False,
         "markers": 2, "valid_markers": 2},
        {"id": "q2", "answerable": True, "evidence_in_answer": False, "refused": False},
        {"id": "gone", "answerable": True, "evidence_in_answer": True, "refused": False}])
    b = write("b.jsonl", [
        {"id": "q1", "answerable": True, "evidence_in_answer": False, "refused": False,
         "markers": 2, "valid_markers": 1},
        {"id": "q2", "answerable": True, "evidence_in_answer": True, "refused": True}])
    assert main(["eval-answers", "--diff", str(a), str(b), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["figures"]["evidence_in_answer"] == {"gained": ["q2"], "lost": ["q1"]}
    assert result["figures"]["refused"] == {"gained": ["q2"], "lost": []}
    assert result["figures"]["citation_valid"] == {"gained": [], "lost": ["q1"]}
    assert result["only_in_a"] == ["gone"] and "answerable" not in result["figures"]
    assert main(["eval-answers", "--diff", str(a), str(b)]) == 0
    assert "evidence_in_answer: 1 false -> true, 1 true -> false" in capsys.readouterr().out
    assert main(["eval-answers", "--diff", str(a), str(tmp_path / "absent.jsonl")]) == 2


def tiny_model(folder: Path) -> Path:
    """A sentence-transformers model made here: a 1-layer BERT over a 60-word vocabulary."""
    import torch
    from sentence_transformers import SentenceTransformer, models
    from transformers import BertConfig, BertModel, BertTokenizerFast

    words = ("how much does an assistant lighthouse keeper earn at the start beekeepers deal "
             "with varroa mites why glassblower cool finished pieces slowly can cartographer "
             "retrain as land surveyor paid first year course take which crowns florins oven "
             "annealing honey bees maps salary skills job work like to i what do and").split()
    raw = folder / "raw"
    raw.mkdir(parents=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *dict.fromkeys(words)]
    (raw / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    BertTokenizerFast(vocab_file=str(raw / "vocab.txt")).save_pretrained(str(raw))
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=1,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=256)
    BertModel(config).save_pretrained(str(raw))
    word = models.Transformer(str(raw), max_seq_length=256)
    pooling = models.Pooling(word.get_word_embedding_dimension(), pooling_mode="mean")
    out = folder / "tiny-embedder"
    SentenceTransformer(modules=[word, pooling], device="cpu").save(str(out))
    return out


def test_another_embedder_side_by_side(
    real_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tiny = tiny_model(tmp_path / "model")
    assert main(["eval", str(CASES), "--retriever", "dense", "--embedder", str(tiny),
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    first, second = out["embedders"]
    assert first["name"] == "all-MiniLM-L6-v2" and second["name"] == "tiny-embedder"
    for item in (first, second):
        assert item["encode"]["passages_per_s"] > 0 and item["encode"]["query_ms_p50"] > 0
        assert item["results"]["n"] == 6
        assert item["results"]["manifest"]["embedder"]["name"] == item["name"]
    # An untrained model ranks worse than MiniLM on the fixture questions.
    assert second["results"]["mrr@10"] < first["results"]["mrr@10"]
    # It got an index of its own beside the main one.
    assert sorted(p.name for p in real_env.glob("[!.]*")) == [
        "default", f"default-emb-{_id(tiny)}"]
    assert main(["eval", str(CASES), "--embedder", str(tmp_path / "nothing")]) == 2


def _id(path: Path) -> str:
    return hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:10]
