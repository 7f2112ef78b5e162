"""The package's answer model with the real MiniLM over five documents of the shared corpus
(model tier): the conversation a student had in the web chat, turn by turn, and the notes of
what the documents do not give."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from advisor.answer import ChatService
from advisor.index import load_index
from advisor.llm import PromptLibrary
from advisor.retrieval import Retriever
from advisor.types import Turn

DOCS = ("3-Deep_Dive_into_Software_Industry_Roles", "4-Full_Stack_Developer", "8-Cloud_Engineer",
        "13-Systems_Engineer", "15-Web_Developer")


@pytest.fixture(scope="module")
def service(shared_corpus: Path, tmp_path_factory: pytest.TempPathFactory,
            build_fixture_index: Any, embedder: Any, chunker: Any) -> ChatService:
    root = tmp_path_factory.mktemp("five-careers")
    corpus = root / "corpus"
    corpus.mkdir()
    for name in DOCS:
        shutil.copy(shared_corpus / f"{name}.md", corpus)
    build_fixture_index(root / "indexes", corpus, embedder=embedder)
    index = load_index(root / "indexes", "default", embedder=embedder, chunker=chunker)
    return ChatService(retriever=Retriever(index=index, embedder=embedder),
                       prompts=PromptLibrary())


def test_the_three_turns_of_the_web_chat(service: ChatService) -> None:
    history: list[Turn] = []
    answers = []
    for question in ("I'm a sysadmin. How do I become a cloud engineer?",
                     "and what do they earn at the start?",
                     "Which role is called the jack-of-all-trades of web development?"):
        answers.append(service.ask(question, history, mode="extractive"))
        history += [Turn("user", question), Turn("assistant", answers[-1].text)]
    switch, pay, new = answers
    assert switch.kind == "transition" and "To Cloud Engineer" in switch.text
    # "they" are the cloud engineers the student asked to become, not the sysadmins they are.
    assert pay.kind == "pay" and "$70,000 to $95,000" in pay.text
    assert "don't give" not in pay.text and "no salary figure" not in pay.text
    assert pay.citations[0].doc_id == "8-Cloud_Engineer"
    # A new subject: no cloud engineer carried over.
    assert new.query == "Which role is called the jack-of-all-trades of web development?"
    assert new.kind != "fit"
    assert "Full Stack Developer: The jack-of-all-trades of web development" in new.text


def test_systems_engineer_pay_is_given_because_the_documents_give_it(
        service: ChatService) -> None:
    for question in ("what does an entry level sysadmin in the US make?",
                     "Is a junior systems engineer paid well at the start?"):
        answer = service.ask(question, mode="extractive")
        assert "$50,000 to $70,000" in answer.text, answer.text
        assert "no salary figure" not in answer.text and "don't give" not in answer.text
