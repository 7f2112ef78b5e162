"""Conversations through ChatService on the fixture corpus (fakes of conftest): which turns
follow the conversation, what they are about, and the notes that say what the documents do not
give, said only when it is true."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from advisor.answer import ChatService, shapes
from advisor.config import ChatSettings
from advisor.index import load_index
from advisor.llm import PromptLibrary
from advisor.retrieval import Retriever
from advisor.types import Hit, Turn

KEEPER = "1-Lighthouse_Keeper"


def converse(service: ChatService, *questions: str) -> list[Any]:
    """Each question asked after the ones before it, with the answers in the history."""
    history: list[Turn] = []
    answers = []
    for question in questions:
        answer = service.ask(question, history, mode="extractive")
        answers.append(answer)
        history += [Turn("user", question), Turn("assistant", answer.text)]
    return answers


def test_after_a_switch_they_are_the_career_switched_to(make_service):
    first, pay = converse(make_service(), "I'm a beekeeper. How do I become a glassblower?",
                          "and what do they earn at the start?")
    assert first.kind == "transition"
    assert pay.kind == "pay"
    assert "1,650 florins" in pay.text and "silver marks" not in pay.text
    assert pay.citations[0].doc_id == "3-Glassblower"


def test_the_subject_of_a_turn_is_the_career_its_answer_was_about(make_service):
    service = make_service()
    assert service.subject_of(["I'm a beekeeper. How do I become a glassblower?"]) == (
        "3-Glassblower")
    assert service.subject_of(["What does a beekeeper earn?"]) == "2-Beekeeper"
    # A turn that names none: the one the conversation named before it.
    assert service.subject_of(["Tell me about cartographers.", "what do they study?"]) == (
        "4-Cartographer")


def test_a_turn_on_a_new_subject_starts_afresh(make_service):
    _, _, maps = converse(make_service(), "I'm a beekeeper. How do I become a glassblower?",
                          "and what do they earn at the start?", "Who approves every map sheet?")
    assert maps.query == "Who approves every map sheet?"  # no career or turn carried over
    assert maps.citations[0].doc_id == "4-Cartographer"
    assert "approves every sheet" in maps.text


def test_a_turn_the_documents_do_not_cover_alone_follows(make_service):
    service = make_service()
    history = ["What does a lighthouse keeper do?"]
    query, _ = service.retrieve("is it lonely?", history)
    assert query.inherited and [c.doc_id for c in query.careers] == ["1-Lighthouse_Keeper"]
    query, _ = service.retrieve("is it lonely?", history, follows=False)
    assert not query.careers and query.text == "is it lonely?"


def test_the_documents_are_said_to_give_no_figure_only_when_none_of_them_does(
        make_service, corpus_copy: Path, tmp_path: Path, build_fixture_index: Any,
        words_embedder: Any, chunker: Any, answer_model: Any):
    # The lighthouse document gives a figure: a pay lead without one gets it, never a note.
    composer = make_service().composer
    query = composer.retriever.condense("What decides the pay of a lighthouse keeper?")
    titles = next(q for q in composer.rank(query, [Hit(c, 1.0, 1) for c in
                                                   composer.sections.chunks_of(KEEPER)], [], [])
                  if q.text.startswith("Typical Entry-Level Job Titles"))
    lead, note = shapes.pay_note(composer, query, [titles], [KEEPER])
    assert note == "" and lead[0] == titles and "28,500 crowns" in lead[1].text
    # Without its salary line, it does not: then, and only then, the note says so.
    doc = corpus_copy / "1-Lighthouse_Keeper.md"
    text = doc.read_text(encoding="utf-8")
    doc.write_text("\n".join(line for line in text.splitlines()
                             if "Expected Initial Salary" not in line), encoding="utf-8")
    build_fixture_index(tmp_path / "indexes", corpus_copy, embedder=words_embedder)
    index = load_index(tmp_path / "indexes", "default", embedder=words_embedder, chunker=chunker)
    service = ChatService(retriever=Retriever(index=index, embedder=words_embedder),
                          prompts=PromptLibrary(), model=answer_model,
                          settings=ChatSettings(refusal_threshold=0.2,
                                                refusal_threshold_named=0.1))
    answer = service.ask("How much does an assistant lighthouse keeper earn?", mode="extractive")
    assert answer.text.endswith("The documents give no salary figure for Lighthouse Keeper.")
    assert "crowns" not in answer.text
