"""Retrievers as plug-ins: a new one is a ScoreList class plus one line in wiring.RETRIEVERS,
and then ``--retriever`` offers it, the evaluation runs it and fusion takes it. On fakes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from advisor import wiring
from advisor.cli import build_parser
from advisor.config import RetrievalSettings
from advisor.errors import ConfigError
from advisor.evals.cases import load_cases
from advisor.evals.retrieval import run_cases
from advisor.index import Index
from advisor.retrieval.query import Query
from advisor.retrieval.retriever import STANDARD, ListsFor, Retriever
from advisor.retrieval.score_lists import Bm25Scores, fuse

FIXTURE_CASES = Path(__file__).resolve().parents[1] / "fixtures" / "cases.jsonl"


class TitleScores:
    """A toy retriever: each chunk scores by the share of its document title's words that the
    question holds ("lighthouse keeper" -> every chunk of "1. Lighthouse Keeper")."""

    name = "title"
    weight = 1.0
    needs_vector = False

    def __init__(self, index: Index) -> None:
        self.index = index

    def scores(self, query: Query, n: int) -> dict[int, float]:
        asked = set(re.findall(r"[a-z]+", query.text.lower()))
        found = {}
        for i, chunk in enumerate(self.index.chunks):
            title = set(re.findall(r"[a-z]+", chunk.title.lower()))
            if title & asked:
                found[i] = len(title & asked) / len(title)
        return dict(sorted(found.items(), key=lambda kv: (-kv[1], kv[0]))[:n])


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> dict[str, ListsFor]:
    # The one line a new retriever adds to wiring.RETRIEVERS:
    monkeypatch.setitem(wiring.RETRIEVERS, "title", lambda index, s: [TitleScores(index)])
    return wiring.RETRIEVERS


def test_a_toy_retriever_is_one_class_and_one_line(
    registry: dict[str, ListsFor], words_retriever: Retriever
) -> None:
    assert wiring.retriever_names() == ["bm25", "dense", "hybrid", "title"]
    args = build_parser().parse_args(["eval", "cases.jsonl", "--retriever", "title"])
    assert args.retriever == "title"
    retriever = Retriever(index=words_retriever.index, embedder=words_retriever.embedder,
                          retrievers=registry)
    assert not retriever.needs_vector("title")
    query, hits = retriever.search("Is a lighthouse keeper lonely?", k=3, mode="title")
    assert query.vector is None  # nothing was encoded
    assert [h.chunk.doc_id for h in hits] == ["1-Lighthouse_Keeper"] * 3
    assert all(h.scores == {"title": 1.0} for h in hits)
    run = run_cases(retriever, load_cases(FIXTURE_CASES), "title")
    assert run.retriever == "title" and 0 < run.metrics["doc_hit@5"] <= 1


def test_fusion_takes_any_list_of_score_lists(
    monkeypatch: pytest.MonkeyPatch, words_retriever: Retriever
) -> None:
    hybrid = STANDARD["hybrid"]
    monkeypatch.setitem(wiring.RETRIEVERS, "hybrid+title",
                        lambda index, s: [*hybrid(index, s), TitleScores(index)])
    retriever = Retriever(index=words_retriever.index, embedder=words_retriever.embedder,
                          retrievers=wiring.RETRIEVERS)
    _, hits = retriever.search("What does a beekeeper earn?", k=3, mode="hybrid+title")
    assert hits[0].scores.keys() == {"dense", "bm25", "title", "sentence"}
    assert all(h.chunk.doc_id == "2-Beekeeper" for h in hits)


def test_an_unknown_retriever_is_named_with_the_choices(words_retriever: Retriever) -> None:
    with pytest.raises(ConfigError, match="unknown retriever 'title': choose one of bm25, dense"):
        words_retriever.search("anything", mode="title")
    with pytest.raises(ConfigError, match="unknown retriever"):
        Retriever(index=words_retriever.index, embedder=words_retriever.embedder,
                  settings=RetrievalSettings(mode="nope"))


def test_rrf_counts_each_list_by_its_weight(words_retriever: Retriever) -> None:
    a, b = Bm25Scores(words_retriever.index), Bm25Scores(words_retriever.index)
    lists = [(a, {1: 9.0, 2: 5.0}), (b, {2: 3.0, 3: 1.0})]
    assert fuse(lists, fusion="rrf", rrf_k=10) == pytest.approx(
        {1: 1 / 11, 2: 1 / 12 + 1 / 11, 3: 1 / 12}  # equal weights: plain RRF
    )
    a.weight, b.weight = 0.75, 0.25
    assert fuse(lists, fusion="rrf", rrf_k=10) == pytest.approx(
        {1: 1.5 / 11, 2: 1.5 / 12 + 0.5 / 11, 3: 0.5 / 12}
    )
    assert fuse(lists, fusion="weighted", rrf_k=10) == pytest.approx({1: 1.5, 2: 0.5, 3: 0.0})


def test_a_list_that_reads_the_vector_needs_one(words_retriever: Retriever) -> None:
    query = words_retriever.condense("beekeeper pay")
    with pytest.raises(ValueError, match="needs the query's vector"):
        words_retriever.rank(query, mode="dense")
    assert words_retriever.rank(query, mode="bm25")
