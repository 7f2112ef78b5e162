"""``ComposeSettings``: how the composer chooses sentences once the answer model has scored
them, in one frozen record (lengths and margins; ``bench/answer_sweep.py`` sweeps them). Apart
from ``compose.py`` so that the lead's lines and the shapes read them without importing the
composer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ComposeSettings:
    """How sentences are chosen once the model has scored them, and how long a lead may be."""

    pool: int = 5  # passages whose sentences may answer
    inherit_kind: bool = True  # a follow-up of no kind of its own asks the kind asked before
    kind_threshold: float = 0.5  # a kind whose probability reaches this is asked
    lead_sentences: int = 3  # the best sentences that fit in lead_chars make the lead
    lead_chars: int = 300  # ... (the first always stands)
    second_margin: float = 0.6  # ... while they score within this of the best
    trim_chars: int = 300  # a lead sentence longer than this is cut to the clauses that answer
    line_chars: int = 400  # a transition's item: its line (bullet) up to this
    head_chars: int = 160  # ... those sentences before the best only this short together
    head_cut: bool = True  # ... else the line's first sentence cut to that length
    details: int = 4
    details_per_passage: int = 2
    detail_floor: float = 0.25  # a detail scores at least this share of the lead's score
    fit_careers: int = 3
    fit_pool: int = 40
    suggestions: int = 3
