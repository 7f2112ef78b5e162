"""Hybrid retrieval over the fixture index: its logic on the words index (WordsEmbedder), and
the ranking checks again with the real MiniLM (``model``)."""

from __future__ import annotations

import pytest

from advisor.config import RetrievalSettings
from advisor.retrieval.query import career_preference
from advisor.retrieval.retriever import STANDARD, Retriever


@pytest.fixture(params=["words", pytest.param("minilm", marks=pytest.mark.model)])
def any_retriever(request: pytest.FixtureRequest) -> Retriever:
    """The retriever over the words index, then over the MiniLM index."""
    name = "words_retriever" if request.param == "words" else "retriever"
    found: Retriever = request.getfixturevalue(name)
    return found

QUESTIONS = [
    ("What does an assistant lighthouse keeper earn when starting out?", "1-Lighthouse_Keeper",
     "28,500 crowns"),
    ("How does a beekeeper treat varroa mites?", "2-Beekeeper", "oxalic acid"),
    ("Why are a glassblower's finished pieces cooled slowly?", "3-Glassblower", "annealing oven"),
    ("Can a cartographer become a land surveyor?", "4-Cartographer", "theodolite"),
]


@pytest.mark.parametrize(("question", "doc_id", "evidence"), QUESTIONS)
def test_a_named_career_ranks_its_passage_first(
    retriever: Retriever, question: str, doc_id: str, evidence: str
) -> None:
    """The real MiniLM: "earn when starting out" finds "start at 28,500 crowns"."""
    query, hits = retriever.search(question, k=5)
    assert [c.doc_id for c in query.careers] == [doc_id]
    assert not query.inherited and query.text == question
    assert hits[0].chunk.doc_id == doc_id
    assert evidence in hits[0].chunk.text
    assert [h.rank for h in hits] == [1, 2, 3, 4, 5]
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert set(hits[0].scores) == {"bm25", "dense", "sentence"}


@pytest.mark.parametrize(
    ("question", "doc_id"),
    [
        ("What does a map maker study at university?", "4-Cartographer"),  # the part after "/"
        ("Do Beekeepers need a licence?", "2-Beekeeper"),  # plural, capitalised
        ("is LIGHTHOUSE KEEPER a lonely job?", "1-Lighthouse_Keeper"),
    ],
)
def test_aliases_name_a_career(words_retriever: Retriever, question: str, doc_id: str) -> None:
    query, hits = words_retriever.search(question, k=3)
    assert [c.doc_id for c in query.careers] == [doc_id]
    assert hits[0].chunk.doc_id == doc_id


def test_two_careers_in_one_question(words_retriever: Retriever) -> None:
    query = words_retriever.condense("Should I become a glassblower or a beekeeper?")
    assert [c.doc_id for c in query.careers] == ["3-Glassblower", "2-Beekeeper"]


def test_a_switch_between_two_careers_is_searched_as_one_unless_told_otherwise(
        words_retriever: Retriever) -> None:
    question = "Do I need to be a beekeeper to become a glassblower?"
    query = words_retriever.condense(question)
    # Its words speak of a move: the advice on it sits in the first career's document.
    assert query.switch and query.text.endswith("(switching careers to Glassblower: skills "
                                                 "and training needed)")
    assert career_preference(query) == {"2-Beekeeper": 1.0, "3-Glassblower": 0.3}
    # The chat's kind model says it asks no switch: searched as asked, both careers alike.
    query = words_retriever.condense(question, switch=False)
    assert not query.switch and query.text == question
    assert career_preference(query) == {"2-Beekeeper": 1.0, "3-Glassblower": 1.0}


def test_a_follow_up_inherits_the_career_of_the_conversation(words_retriever: Retriever) -> None:
    history = ["I'm curious about working as a glassblower.", "What tools would I use?"]
    query, hits = words_retriever.search("and what is the pay in the first year?", k=3,
                                   history=history)
    assert query.inherited
    assert [c.doc_id for c in query.careers] == ["3-Glassblower"]
    # Searched together with the turn before it ("What tools would I use?" asks on).
    assert query.text == "What tools would I use? and what is the pay in the first year?"
    assert hits[0].chunk.doc_id == "3-Glassblower"
    assert "1,650 florins" in hits[0].chunk.text
    assert all(h.chunk.doc_id == "3-Glassblower" for h in hits[:2])


def test_a_question_naming_its_own_career_does_not_inherit(words_retriever: Retriever) -> None:
    query = words_retriever.condense("What about cartographers?", ["Tell me about beekeepers."])
    assert not query.inherited
    assert [c.doc_id for c in query.careers] == ["4-Cartographer"]


def test_the_latest_career_of_the_history_wins(words_retriever: Retriever) -> None:
    history = ["Tell me about beekeepers.", "Now tell me about lighthouse keepers."]
    query = words_retriever.condense("how much do they earn?", history)
    assert [c.doc_id for c in query.careers] == ["1-Lighthouse_Keeper"]


def test_a_turn_that_does_not_follow_starts_afresh(words_retriever: Retriever) -> None:
    history = ["Tell me about beekeepers."]
    query = words_retriever.condense("Who approves every map sheet?", history, follows=False)
    assert query.careers == () and not query.inherited and query.earlier == ()
    assert query.text == "Who approves every map sheet?"
    # A follow-up without a career anywhere still reads with the turn before it.
    query = words_retriever.condense("what pays best?", ["where do glass and maps meet?"])
    assert query.careers == () and not query.inherited
    assert query.text == "where do glass and maps meet? what pays best?"


def test_a_follow_up_is_about_the_subject_it_is_given(words_retriever: Retriever) -> None:
    history = ["I'm a beekeeper. How do I become a glassblower?"]
    query = words_retriever.condense("and what do they earn?", history, subject="3-Glassblower")
    assert [c.doc_id for c in query.careers] == ["3-Glassblower"] and query.inherited


def test_results_are_deterministic(words_retriever: Retriever) -> None:
    question = "Which certificates does a lighthouse keeper need?"
    for mode in STANDARD:
        _, a = words_retriever.search(question, k=8, mode=mode)
        _, b = words_retriever.search(question, k=8, mode=mode)
        assert [(h.chunk.chunk_id, h.score) for h in a] == [(h.chunk.chunk_id, h.score) for h in b]


@pytest.mark.parametrize("mode", list(STANDARD))
def test_every_mode_finds_the_passage(any_retriever: Retriever, mode: str) -> None:
    query, hits = any_retriever.search("oxalic acid treatment against varroa mites", k=5,
                                   mode=mode)
    assert hits, mode
    assert any("oxalic acid" in h.chunk.text for h in hits[:3]), mode
    assert len({h.chunk.chunk_id for h in hits}) == len(hits)
    expected = {"hybrid": {"bm25", "dense", "sentence"}, "bm25": {"bm25"}, "dense": {"dense"}}[mode]
    assert set().union(*(h.scores for h in hits)) <= expected
    assert query.careers == ()


def test_bm25_ignores_words_the_corpus_lacks(words_retriever: Retriever) -> None:
    _, hits = words_retriever.search("zzyzx quokka", k=5, mode="bm25")
    assert hits == []
    _, dense = words_retriever.search("zzyzx quokka", k=5, mode="dense")
    assert len(dense) == 5  # dense always ranks something


def test_doc_ids_keep_only_those_careers(words_retriever: Retriever) -> None:
    question = "What is the starting salary?"
    _, hits = words_retriever.search(question, k=10, doc_ids=["4-Cartographer", "2-Beekeeper"])
    assert hits
    assert {h.chunk.doc_id for h in hits} <= {"4-Cartographer", "2-Beekeeper"}
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    _, none = words_retriever.search(question, k=10, doc_ids=[])
    assert none == []


def test_weighted_fusion_and_no_boost(words_retriever: Retriever) -> None:
    plain = Retriever(index=words_retriever.index, embedder=words_retriever.embedder,
                      settings=RetrievalSettings(fusion="weighted", career_boost=0.0))
    query, hits = plain.search("How much does a junior cartographer earn?", k=3)
    assert [c.doc_id for c in query.careers] == ["4-Cartographer"]
    assert hits[0].chunk.doc_id == "4-Cartographer"
    assert 0.0 < hits[0].score <= 2.0  # two min-max normalised lists, equal weights


def test_sentence_rerank_reorders_only_the_head(any_retriever: Retriever) -> None:
    question = "Which tool grafts young larvae into queen cups?"
    plain = Retriever(
        index=any_retriever.index,
        embedder=any_retriever.embedder,
        settings=RetrievalSettings(sentence_rerank=0.0),
    )
    depth = any_retriever.settings.rerank_depth
    _, before = plain.search(question, k=depth)
    _, after = any_retriever.search(question, k=depth)
    assert {h.chunk.chunk_id for h in before} == {h.chunk.chunk_id for h in after}
    assert all("sentence" not in h.scores for h in before)
    assert all("sentence" in h.scores for h in after)
    assert "grafting" in after[0].chunk.text.lower()


def test_key_sentences_pass_over_labels_and_lead_ins(words_retriever: Retriever) -> None:
    query, hits = words_retriever.search("What technical skills does a beekeeper need?", k=3)
    scored = words_retriever.key_sentences(query, [h.chunk for h in hits])
    assert scored and any(s.score > 0 for s in scored)
    for sent in scored:
        if sent.text.endswith(":") or len(sent.text.split()) < 3:
            assert sent.score == float("-inf"), sent.text
