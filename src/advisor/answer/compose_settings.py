"""``ComposeSettings``: how the composer chooses sentences, in one frozen record (hand-set weights
and lengths; ``bench/answer_sweep.py`` sweeps them). Apart from ``compose.py`` so that the
lead's lines and the shapes read them without importing the composer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ComposeSettings:
    """How sentences are chosen (weights add to a key sentence's score)."""

    pool: int = 5  # passages whose sentences may answer
    inherit_kind: bool = True  # a follow-up of no kind of its own asks the kind asked before
    heading_weight: float = 0.3  # the sentence sits in a section of the question's kind
    heading_kinds: int = 2  # ... for each of its kinds it serves, up to this many
    label_words: bool = True  # ... or, under no such heading, its label uses the kind's words
    rank_weight: float = 0.1  # less per rank of its passage
    named_weight: float = 0.3  # its passage belongs to a career the question names
    label_named: bool = True  # ... or its label names all of two or more ("Backend ... with DBAs")
    figure_weight: float = 0.3  # pay questions: the sentence holds a money figure
    label_weight: float = 0.2  # its bold label names what the question asks ("To Cloud Engineer")
    specific_weight: float = 0.2  # it names things (tools, certifications): up to three count
    specific_listing: bool = True  # ... only when the question asks which things
    signpost_weight: float = 0.5  # less when it tells what the guide goes on to say
    line_chars: int = 400  # the best sentence brings the rest of its line (bullet) up to this
    head_chars: int = 160  # ... those before it only this short together
    head_cut: bool = True  # ... else the line's first sentence cut to that length
    trim_chars: int = 300  # a lead sentence longer than this is cut to the clauses that answer
    second_margin: float = 0.1  # a runner-up from another line this close to the best joins
    lines: int = 2  # ... up to this many lines in all
    lead_chars: int = 400  # ... if the lead stays this short
    details: int = 4
    details_per_passage: int = 2
    detail_floor: float = 0.6  # a detail scores at least this share of the lead's score
    fit_careers: int = 3
    fit_pool: int = 40
    suggestions: int = 3
