"""Text handling: each splitter, tokenizer and folding rule, and where the variants differ."""

from __future__ import annotations

from advisor.text import (
    CITATION,
    content_stems,
    cut_spans,
    fold,
    fold_space,
    key_terms,
    numbers,
    passage_sentences,
    plain_text,
    question_words,
    strip_citations,
    terms,
    typed_sentences,
)


def test_documents_and_typing_split_differently() -> None:
    text = "I like maths. which job fits me? e.g. data work"
    # A document's sentence starts with a capital, a digit or a quote; a student's need not.
    assert [s.text for s in passage_sentences(text)] == [text]
    assert typed_sentences(text) == ["I like maths.", "which job fits me?", "e.g.", "data work"]


def test_the_chunker_may_cut_after_a_semicolon_where_no_sentence_ends() -> None:
    text = "Learn SQL; then Python. Next"
    spans = [text[a:b] for a, b in cut_spans(text, 0)]
    assert spans == ["Learn SQL;", "then Python.", "Next"]
    assert [text[a - 10 : b - 10] for a, b in cut_spans(text, 10)] == spans
    assert len(passage_sentences(text)) == 2  # "Learn SQL; then Python." stays one sentence


def test_plain_text_drops_markup_and_keeps_link_text() -> None:
    assert plain_text("* **Pay:** see [the guide](https://x.org)  &nbsp;`now`") == (
        "Pay: see the guide now"
    )


def test_passage_sentences_carry_labels_and_quotability() -> None:
    found = passage_sentences("* **Key skills:**\n  * Python and SQL for pipelines.\n"
                              "* [A book](https://x.org)")
    assert [(s.text, s.quotable, s.label) for s in found] == [
        ("Key skills:", False, "Key skills"),
        ("Python and SQL for pipelines.", True, "Key skills"),
        ("A book", False, ""),
    ]


def test_folding() -> None:
    assert fold_space("  a\t\nb  c ") == "a b c"
    assert fold("Data\n ENGINEER") == "data engineer"


def test_the_three_stop_word_lists_serve_different_readers() -> None:
    # The support check keeps "salary" and drops "what"; the question's words drop "does" too.
    assert content_stems("What does a data engineer's salary look like?") == [
        "data", "engin", "salari", "look", "like"
    ]
    assert question_words(["What does a data engineer earn?"]) == [["data", "engin", "earn"]]
    assert question_words([]) == []
    # Key terms of an evidence string: words of four letters or more, their own list out.
    assert key_terms("Salaries range from $75,000 to $120,000 in the US") == (
        {"75,000", "120,000"}, {"salaries", "range"}
    )


def test_numbers_for_the_support_check_and_for_the_figures() -> None:
    assert numbers("from 75,000 to 120,000. Then 3.") == {"75000", "120000", "3"}
    assert terms("from 75,000 to 1.5") == ({"75,000", "1.5"}, {"from", "to"})


def test_citation_markers() -> None:
    assert strip_citations("Yes [1], and [22] but not [1234].") == "Yes , and  but not [1234]."
    assert CITATION.findall("[3] [10]") == ["3", "10"]
