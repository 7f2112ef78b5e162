"""The composer on the fixture index with the word-count embedder: the signals each candidate
sentence gets (``answer.features``), the ranker's order, the lead's packing and the shapes.
Passages written here (not in the index) are scored as the retriever scores any passage."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from advisor.answer import shapes
from advisor.answer.compose import Composer
from advisor.answer.compose_settings import ComposeSettings
from advisor.answer.features import BASE, FEATURES, KINDS, Candidates
from advisor.answer.model import kind_probabilities
from advisor.answer.quotes import LISTING, Quote
from advisor.llm.prompts import PromptLibrary
from advisor.retrieval.retriever import Retriever
from advisor.text import passage_sentences
from advisor.types import Chunk, Hit


def chunk(doc_id: str, text: str, *headings: str) -> Chunk:
    return Chunk(f"{doc_id}#{abs(hash((text, headings)))}", doc_id, doc_id, headings, text,
                 0, len(text), len(text.split()))


def composer(retriever: Retriever, answer_model: Any, **settings: Any) -> Composer:
    return Composer(retriever=retriever, prompts=PromptLibrary(),
                    settings=ComposeSettings(**settings), model=answer_model)


def signals(comp: Composer, question: str, passage: Chunk, named: list[str],
            start: str) -> dict[str, float]:
    """The base signals of the sentence of ``passage`` that starts with ``start``."""
    query = comp.retriever.condense(question)
    found = comp.signals.candidates(query, [Hit(passage, 1.0, 1)], named)
    row = next(i for i, q in enumerate(found.quotes) if q.text.startswith(start))
    return dict(zip(BASE, found.base[row], strict=True))


PAIR = chunk("9-Overview",
             "* **Beekeepers with Glassblowers:** Beekeepers sell beeswax to glassblowers. "
             "Glassblowers make the jars that honey is sold in.\n", "Working Together")


def test_a_label_naming_both_careers_of_the_question_is_a_signal(words_retriever, answer_model):
    comp = composer(words_retriever, answer_model)
    question = "How do beekeepers and glassblowers work together?"
    both = signals(comp, question, PAIR, ["2-Beekeeper", "3-Glassblower"], "Glassblowers make")
    assert both["label_names_pair"] == 1.0 and both["named_career"] == 0.0
    one = signals(comp, question, PAIR, ["2-Beekeeper"], "Glassblowers make")
    assert one["label_names_pair"] == 0.0 and one["label_names_other"] == 1.0


def test_the_kind_columns_weigh_the_sections_by_the_kinds_probability(words_retriever,
                                                                      answer_model):
    comp = composer(words_retriever, answer_model)
    overview = chunk("9-Overview", "* **Possible career changes:** Paths to related roles and "
                     "the training they need.\n")
    switching = replace(overview, chunk_id="switching", heading_path=("Switching Careers",))
    query = comp.retriever.condense("How can a beekeeper change careers later?")
    found = comp.signals.candidates(query, [Hit(overview, 1.0, 1), Hit(switching, 0.9, 2)], [])
    transition = KINDS.index("transition")
    # A label in the kind's own words stands in for a heading that names no kind.
    assert found.label_kinds[0, transition] == 1.0 and found.heading_kinds[0, transition] == 0
    assert found.heading_kinds[1, transition] == 1.0
    sure = found.rows({"transition": 0.9})
    unsure = found.rows({"transition": 0.2})
    match = FEATURES.index("kind_match")
    assert sure[:, match].tolist() == [0.9, 0.9] and unsure[:, match].tolist() == [0.2, 0.2]
    heading = FEATURES.index("kind_heading")
    assert sure[:, heading].tolist() == [0.0, 1.0] and unsure[:, heading].tolist() == [0.0, 0.0]


def test_a_signpost_the_named_career_and_a_repeated_sentence_are_signals(words_retriever,
                                                                         answer_model):
    comp = composer(words_retriever, answer_model)
    intro = chunk("9-Overview", "We'll also map out the first steps of a beekeeper's path.\n\n"
                  "The first steps of a beekeeper are tending a hive under a mentor.\n")
    question = "What are the first steps of a beekeeper?"
    assert signals(comp, question, intro, [], "We'll")["signpost"] == 1.0
    assert signals(comp, question, intro, [], "The first")["signpost"] == 0.0
    about = "What does the guide map out about a beekeeper's first steps?"
    assert signals(comp, about, intro, [], "We'll")["signpost_about_guide"] == 1.0
    certs = chunk("2-Beekeeper", "* **Certifications:** Beekeeper certifications matter for "
                  "Beekeepers.\n\n* **Bee Guild:** Bee Guild Master and Hive Steward Level 1.\n")
    listing = "What certifications help a beekeeper?"
    # The subject of the question restated names nothing; the certifications listed do.
    assert signals(comp, listing, certs, ["2-Beekeeper"], "Certifications:")["named_things"] == 0
    listed = signals(comp, listing, certs, ["2-Beekeeper"], "Bee Guild:")
    assert listed["named_things_listing"] > 0 and listed["named_career"] == 1.0
    twice = chunk("2-Beekeeper", "Hives need checking every week.\n\n"
                  "Hives need checking every week.\n")
    query = comp.retriever.condense("How often are hives checked?")
    found = comp.signals.candidates(query, [Hit(twice, 1.0, 1)], [])
    assert found.base[:, BASE.index("duplicate")].tolist() == [0.0, 1.0]


class ByFeature:
    """A stand-in ranker that scores by one signal, to see the composer follow its order."""

    def __init__(self, model: Any, feature: str) -> None:
        self.kinds, self.follow_up = model.kinds, model.follow_up
        self.column = FEATURES.index(feature)

    def rank(self, candidates: Candidates, kinds: Any) -> np.ndarray:
        return candidates.rows(kinds)[:, self.column] / 10


def test_the_ranker_orders_the_candidates(words_retriever, answer_model):
    comp = composer(words_retriever, answer_model)
    comp._model = ByFeature(answer_model, "log_chars")  # longest first
    passage = chunk("2-Beekeeper", "Short one here.\n\nA much longer sentence about bees and "
                    "their hives in the summer.\n\nA middle sized sentence here.\n")
    ranked = comp.rank(comp.retriever.condense("bees"), [Hit(passage, 1.0, 1)], [], [])
    assert [q.text[:5] for q in ranked] == ["A muc", "A mid", "Short"]
    assert ranked[0].score > ranked[1].score > ranked[2].score


def test_an_unlabelled_switch_item_that_names_the_target_is_the_switch(words_retriever,
                                                                      monkeypatch, answer_model):
    needs = chunk("2-Beekeeper",
                  "* Learn to read old survey maps and to draw contour lines by hand.\n"
                  "* Furnace safety courses and a Glassblower apprenticeship of two years.\n"
                  "* A licence to keep a lighthouse lamp.\n",
                  "Switching Careers", "Additional Skills/Training Needed to Switch")
    comp = composer(words_retriever, answer_model)
    monkeypatch.setattr(comp.sections, "chunks_of", lambda doc: [needs])
    query = comp.retriever.condense("I'm a beekeeper, what would I need to become a glassblower?")
    item = shapes.switch_item(comp, query, "2-Beekeeper", "3-Glassblower", "switch_needs")
    assert [q.text for q in item] == [
        "Furnace safety courses and a Glassblower apprenticeship of two years."
    ]
    assert not shapes.switch_item(comp, query, "2-Beekeeper", "4-Cartographer", "switch_needs")


def test_a_term_label_with_a_long_parenthesis_is_a_label():
    line = ("* Glassblower (Less common, depends on the region): Beekeepers with a steady "
            "hand can learn to blow glass.")
    assert passage_sentences(line)[0].label == "Glassblower (Less common, depends on the region)"
    assert passage_sentences("* Seven plain words before any colon here: no label.")[0].label == ""


def quote(hit: Hit, line: int, position: int, score: float, text: str) -> Quote:
    return Quote(hit, text, position, score, "", line)


def test_the_lead_packs_the_best_sentences_that_fit_line_by_line(words_retriever, answer_model):
    hit = Hit(chunk("2-Beekeeper", "unused"), 1.0, 1)
    best = quote(hit, 0, 1, 0.9, "B" * 150 + ".")
    runner = quote(hit, 1, 3, 0.8, "R" * 100 + ".")
    same_line = quote(hit, 0, 0, 0.7, "S" * 40 + ".")
    long = quote(hit, 2, 5, 0.75, "L" * 200 + ".")
    comp = composer(words_retriever, answer_model, lead_sentences=3, lead_chars=300,
                    second_margin=1.0)
    lead = comp.lead([best, runner, long, same_line], "anything")
    # The long one does not fit beside the best and the runner-up; the one of the best's line
    # does, and stands before the best as in the document.
    assert [q.text[0] for q in lead] == ["S", "B", "R"]
    assert [q.text[0] for q in comp.lead([best, runner, long], "x")] == ["B", "R"]
    narrow = composer(words_retriever, answer_model, second_margin=0.05)
    assert [q.text[0] for q in narrow.lead([best, runner, same_line], "x")] == ["B"]
    # The first always stands, however long; the same sentence twice is quoted once.
    huge = replace(best, text="H" * 500 + ".")
    twin = replace(huge, hit=Hit(replace(hit.chunk, chunk_id="twin"), 1.0, 2), score=0.85)
    lead = composer(words_retriever, answer_model, trim_chars=0).lead([huge, twin], "x")
    assert [q.text[0] for q in lead] == ["H"]


class Kinds:
    """A stand-in kind model with set answers."""

    def __init__(self, answers: dict[str, dict[str, float]]) -> None:
        self.answers = answers

    def probabilities(self, question: str, vector: Any = None) -> dict[str, float]:
        return self.answers[question]


def test_a_follow_up_of_no_kind_of_its_own_asks_the_kind_asked_before():
    model: Any = Kinds({
        "is there one for winter?": {"skills": 0.2, "pay": 0.1, "fit": 0.3},
        "Which skills does a beekeeper need?": {"skills": 0.9, "pay": 0.1, "fit": 0.6},
        "and what do they earn?": {"skills": 0.1, "pay": 0.8, "fit": 0.0},
    })
    after = kind_probabilities(model, "is there one for winter?", None,
                               "Which skills does a beekeeper need?", None)
    # The earlier turn's kinds, but not its "which career fits me".
    assert after == {"skills": 0.9, "pay": 0.1, "fit": 0.3}
    assert kind_probabilities(model, "is there one for winter?", None)["skills"] == 0.2
    # Its own kind wins: a pay follow-up stays a pay question.
    pay = kind_probabilities(model, "and what do they earn?", None,
                             "Which skills does a beekeeper need?", None)
    assert pay == {"skills": 0.1, "pay": 0.8, "fit": 0.0}


def test_what_is_and_whats_ask_what_something_is_which_and_what_things_ask_for_a_list():
    assert not LISTING.search("What's the difference between a beekeeper and a glassblower?")
    assert not LISTING.search("What is a beekeeper?")
    assert LISTING.search("What certifications help a beekeeper?")
    assert LISTING.search("Which tools does a glassblower use?")
