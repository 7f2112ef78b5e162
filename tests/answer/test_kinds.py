"""Kinds of question (the package's learned kind model with the real MiniLM, in the model tier),
small talk, places and the composer's pure helpers, on paraphrases written for these tests
(not the benchmark's questions)."""

from __future__ import annotations

import pytest

from advisor.answer import load_model
from advisor.answer.kinds import (
    SPAN,
    asks_duration,
    interests,
    is_compare,
    places_in,
    smalltalk,
)
from advisor.answer.quotes import trim
from advisor.answer.sections import MONEY
from advisor.text import content_stems


@pytest.fixture(scope="module")
def kinds_of(embedder):
    model = load_model()

    def probabilities(question: str) -> dict[str, float]:
        return model.kinds.probabilities(question, embedder.embed_query(question))

    return probabilities


KINDS = [
    ("What would a junior cloud engineer be paid?", "pay"),
    ("how much money do QA testers make when they start", "pay"),
    ("what does a first-year network architect make?", "pay"),
    ("is the salary of a game developer good at the start?", "pay"),
    ("Which certs should a network architect get?", "certifications"),
    ("I'm a tester and want to switch to development, what do I need?", "transition"),
    ("Do I need a degree to become a web developer?", "education"),
    ("Which programming languages should a backend developer learn?", "skills"),
    ("How do data scientists move up to senior roles?", "progression"),
    ("What can a DevOps engineer specialize in?", "specializations"),
    ("What books should I read about software testing?", "resources"),
    ("where can I look up reviews of companies before applying?", "resources"),
    ("What project should I put in my mobile developer portfolio?", "portfolio"),
]


def test_the_kind_of_a_question(kinds_of):
    # A learned model on paraphrases it never saw: a rate, not a promise per question (its
    # cross-validated kind_first is 0.78; these are plainer). A kind is asked from 0.5 on,
    # the composer's kind_threshold; pay is asked by "make", "paid" and "salary" alike.
    missed = [(q, k, round(kinds_of(q)[k], 3)) for q, k in KINDS if kinds_of(q)[k] < 0.5]
    assert len(missed) <= 1, missed
    assert all(kinds_of(q)["pay"] >= 0.5 for q, k in KINDS if k == "pay")
    assert kinds_of("where can I look up reviews of companies before applying?")["resources"] >= 0.5


@pytest.mark.parametrize("question", [
    "I enjoy drawing comics and fixing bikes. What career would suit me?",
    "Which job fits someone who likes puzzles?",
    "I like talking to people and I'm good with computers, any tech job for me?",
])
def test_a_student_describing_themselves_asks_which_career_fits(kinds_of, question):
    assert kinds_of(question)["fit"] >= 0.5


@pytest.mark.parametrize("question", [
    "Which role is known as the guardian of a company's data?",
    "Which job is described as the link between the business and the developers?",
    "Which skills does a data engineer need?",
    "What job titles are entry-level for a data engineer?",
])
def test_which_role_is_called_something_is_no_question_of_fit(kinds_of, question):
    assert kinds_of(question)["fit"] < 0.5


@pytest.mark.parametrize("message, kind", [
    ("hi", "greeting"), ("Hello!", "greeting"), ("hey there", "greeting"),
    ("thanks a lot!", "thanks"), ("Thank you so much", "thanks"), ("bye", "bye"),
    ("who are you?", "about"), ("What can you do?", "about"), ("hi, who are you?", "about"),
])
def test_small_talk(message, kind):
    assert smalltalk(message) == kind


@pytest.mark.parametrize("message", [
    "hi, what does a data engineer earn?", "thanks, and which skills does a DBA need?",
    "Who are the best employers for data scientists?", "help me pick a career",
])
def test_questions_are_not_small_talk(message):
    assert smalltalk(message) is None


def test_what_a_student_says_about_themselves():
    question = "I enjoy drawing comics and fixing bikes. What career would suit me?"
    assert interests(question) == "I enjoy drawing comics and fixing bikes."


def test_comparisons_need_two_careers():
    assert is_compare("Data engineer or data scientist: which pays more?", ["a", "b"])
    assert not is_compare("What's the difference between SQL and NoSQL?", [])
    assert not is_compare("support engineer vs customer success engineer?", ["a", "a"])


def test_places_in_a_question_and_in_a_passage():
    assert places_in("What does a tester earn in Sri Lanka or India?") == ["Sri Lanka", "India"]
    assert places_in("salaries in the States") == ["the US"]
    assert places_in("tell us about pay") == []  # "us" in lower case is not a country
    assert places_in("In the US, starting salaries ...") == ["the US"]


def test_money_figures():
    assert MONEY.search("from $75,000 to $120,000+ per year")
    assert MONEY.search("start at 28,500 crowns a year")
    assert MONEY.search("₹3 LPA - ₹6 LPA")
    assert not MONEY.search("in 2 to 3 years")


def test_a_long_quote_is_cut_to_the_clauses_that_answer():
    text = ("To Cloud Engineer: Broaden cloud computing skills beyond security, learn cloud "
            "infrastructure architecture in depth, networking in the cloud, cloud migration "
            "strategies, cloud governance frameworks, and potentially cloud architecture "
            "certifications (AWS Certified Solutions Architect, Azure Solutions Architect "
            "Expert, Google Professional Cloud Architect).")
    asked = set(content_stems("Which certifications does a cloud engineer need?"))
    cut = trim(text, "To Cloud Engineer", asked, 200)
    assert cut.startswith("To Cloud Engineer: … ")
    assert "certifications (AWS Certified Solutions Architect" in cut
    assert len(cut) <= 200
    assert trim("Short enough.", "", asked, 200) == "Short enough."


def test_a_question_of_time_and_a_span_of_time():
    assert asks_duration("How long does it take to become a beekeeper?")
    assert asks_duration("how many years until I'm a senior glassblower?")
    assert not asks_duration("How much does a beekeeper earn?")
    assert SPAN.search("A degree takes 3-4 years.") and SPAN.search("a 12 week bootcamp")
    assert not SPAN.search("Salaries range from $60,000 to $90,000 per year.")
