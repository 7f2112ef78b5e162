"""The composer's signals and lead on the fixture index with the word-count embedder: passages
written here (not in the index) are scored as the retriever scores any passage."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from advisor.answer import shapes
from advisor.answer.compose import Composer
from advisor.answer.compose_settings import ComposeSettings
from advisor.answer.quotes import LISTING, Quote
from advisor.llm.prompts import PromptLibrary
from advisor.retrieval.retriever import Retriever
from advisor.text import passage_sentences
from advisor.types import Chunk, Hit


def chunk(doc_id: str, text: str, *headings: str) -> Chunk:
    return Chunk(f"{doc_id}#{abs(hash((text, headings)))}", doc_id, doc_id, headings, text,
                 0, len(text), len(text.split()))


def composer(retriever: Retriever, **settings: Any) -> Composer:
    return Composer(retriever=retriever, prompts=PromptLibrary(),
                    settings=ComposeSettings(**settings))


def score_of(comp: Composer, question: str, passage: Chunk, kinds: list[str],
             named: list[str], start: str) -> float:
    query = comp.retriever.condense(question)
    ranked = comp.rank(query, [Hit(passage, 1.0, 1)], kinds, named)
    return next(q.score for q in ranked if q.text.startswith(start))


PAIR = chunk("9-Overview",
             "* **Beekeepers with Glassblowers:** Beekeepers sell beeswax to glassblowers. "
             "Glassblowers make the jars that honey is sold in.\n", "Working Together")


def test_a_label_naming_both_careers_of_the_question_counts_as_about_them(words_retriever):
    question = "How do beekeepers and glassblowers work together?"
    named = ["2-Beekeeper", "3-Glassblower"]
    on = score_of(composer(words_retriever), question, PAIR, [], named, "Glassblowers make")
    off = score_of(composer(words_retriever, label_named=False), question, PAIR, [], named,
                   "Glassblowers make")
    assert on - off == pytest.approx(ComposeSettings().named_weight)
    # One named career: a label in another document is the label weight's, not this one.
    one = score_of(composer(words_retriever), question, PAIR, [], named[:1], "Glassblowers make")
    assert one == pytest.approx(score_of(composer(words_retriever, label_named=False), question,
                                         PAIR, [], named[:1], "Glassblowers make"))


def test_a_label_in_the_kinds_words_stands_in_for_a_missing_heading(words_retriever):
    question = "Does the guide say how a beekeeper can change careers later?"
    overview = chunk("9-Overview", "* **Possible career changes:** Paths to related roles and "
                     "the training they need.\n")
    on = score_of(composer(words_retriever), question, overview, ["transition"], [], "Possible")
    off = score_of(composer(words_retriever, label_words=False), question, overview,
                   ["transition"], [], "Possible")
    assert on - off == pytest.approx(ComposeSettings().heading_weight)
    # Under a heading of the kind, the label adds nothing more.
    switching = replace(overview, chunk_id="switching", heading_path=("Switching Careers",))
    on = score_of(composer(words_retriever), question, switching, ["transition"], [], "Possible")
    off = score_of(composer(words_retriever, label_words=False), question, switching,
                   ["transition"], [], "Possible")
    assert on == pytest.approx(off)


def test_an_unlabelled_switch_item_that_names_the_target_is_the_switch(words_retriever,
                                                                      monkeypatch):
    needs = chunk("2-Beekeeper",
                  "* Learn to read old survey maps and to draw contour lines by hand.\n"
                  "* Furnace safety courses and a Glassblower apprenticeship of two years.\n"
                  "* A licence to keep a lighthouse lamp.\n",
                  "Switching Careers", "Additional Skills/Training Needed to Switch")
    comp = composer(words_retriever)
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


def test_a_close_runner_up_line_comes_before_the_best_lines_weaker_tail(words_retriever):
    passage = chunk("2-Beekeeper", "unused")
    hit = Hit(passage, 1.0, 1)
    best = quote(hit, 0, 0, 1.0, "B" * 200 + ".")
    tail = quote(hit, 0, 1, 0.5, "T" * 150 + ".")
    runner = quote(hit, 1, 2, 0.95, "R" * 150 + ".")
    comp = composer(words_retriever, lead_chars=400, line_chars=400, second_margin=0.1)
    lead = comp.lead([best, runner, tail], "anything")
    assert [q.text[0] for q in lead] == ["B", "R"]  # the tail would not fit beside the runner-up
    far = replace(runner, score=0.8)  # beyond the margin: the best line's tail joins instead
    assert [q.text[0] for q in comp.lead([best, far, tail], "anything")] == ["B", "T"]
    assert [q.text[0] for q in comp.line_of(best, [best, far, tail], 400, set())] == ["B", "T"]


def test_a_follow_up_of_no_kind_of_its_own_asks_the_kind_asked_before(words_retriever):
    earlier = ["Which technical skills does a beekeeper need?"]
    query, hits = words_retriever.search("is there one for winter?", history=earlier)
    assert query.earlier == tuple(earlier)
    assert composer(words_retriever).compose(query, hits).kind == "skills"
    assert composer(words_retriever, inherit_kind=False).compose(query, hits).kind == "general"
    # Its own kind wins: a pay follow-up stays a pay question.
    query, hits = words_retriever.search("and what do they earn?", history=earlier)
    assert composer(words_retriever).compose(query, hits).kind == "pay"


def test_a_sentence_about_the_guide_itself_gives_way_to_a_fact(words_retriever):
    intro = chunk("9-Overview", "We'll also map out the first steps of a beekeeper's path.\n\n"
                  "The first steps of a beekeeper are tending a hive under a mentor.\n")
    question = "What are the first steps of a beekeeper?"
    comp = composer(words_retriever)
    signpost = score_of(comp, question, intro, [], [], "We'll")
    plain = score_of(composer(words_retriever, signpost_weight=0.0), question, intro, [], [],
                     "We'll")
    assert plain - signpost == pytest.approx(ComposeSettings().signpost_weight)
    query = comp.retriever.condense(question)
    lead = comp.lead(comp.rank(query, [Hit(intro, 1.0, 1)], [], []), question)
    assert [q.text[:20] for q in lead] == ["The first steps of a"]
    # A question about the guide itself may be answered by what the guide says of itself.
    about = "What does the guide map out about a beekeeper's first steps?"
    assert score_of(comp, about, intro, [], [], "We'll") == pytest.approx(
        score_of(composer(words_retriever, signpost_weight=0.0), about, intro, [], [], "We'll"))


def test_the_career_a_question_names_is_no_specific_thing_to_list(words_retriever):
    certs = chunk("2-Beekeeper", "* **Certifications:** Beekeeper certifications matter for "
                  "Beekeepers.\n\n* **Bee Guild:** Bee Guild Master and Hive Steward Level 1.\n")
    question = "What certifications help a beekeeper?"
    comp = composer(words_retriever)
    plain = composer(words_retriever, specific_weight=0.0)
    # The subject of the question restated earns nothing; the certifications it lists do.
    subject = score_of(comp, question, certs, [], [], "Certifications:")
    assert subject == pytest.approx(score_of(plain, question, certs, [], [],
                                             "Certifications:"))
    listed = score_of(comp, question, certs, [], [], "Bee Guild:")
    assert listed - score_of(plain, question, certs, [], [], "Bee Guild:") > 0


def test_what_is_and_whats_ask_what_something_is_which_and_what_things_ask_for_a_list():
    assert not LISTING.search("What's the difference between a beekeeper and a glassblower?")
    assert not LISTING.search("What is a beekeeper?")
    assert LISTING.search("What certifications help a beekeeper?")
    assert LISTING.search("Which tools does a glassblower use?")
