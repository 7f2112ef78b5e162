"""The writer's own checks on a model sentence, beyond the support check (pure functions)."""

from __future__ import annotations

from advisor.answer.quotes import Quote
from advisor.answer.writer import goes_elsewhere
from advisor.types import Chunk, Hit

TEXT = ("To Program Manager: Develop program management skills and potentially obtain the "
        "Program Management Professional (PgMP) certification.")


def quotes(label: str) -> list[Quote]:
    passage = Chunk("8-Beekeeper#1", "8-Beekeeper", "Beekeeper", ("Switching Careers",), TEXT,
                    0, len(TEXT), len(TEXT.split()))
    return [Quote(Hit(passage, 1.0, 1), TEXT, 0, 1.0, label, 0)]


def test_a_sentence_that_has_the_student_become_another_career_than_the_target_goes():
    question = "I'm a project manager and want to move up to program manager, is there a cert?"
    lead = quotes("To Program Manager")
    # Seen on dev and on paraphrases: the source career restated as the target.
    assert goes_elsewhere("To become a project manager, pursue the PgMP.", question, lead)
    assert not goes_elsewhere("To become a program manager, obtain the PgMP.", question, lead)
    assert not goes_elsewhere("The PgMP helps a program manager.", question, lead)


def test_the_move_the_question_asks_for_and_passages_that_lead_nowhere_pass():
    question = "I'm a DBA and want to become a sysadmin, what should I learn?"
    assert not goes_elsewhere("To become a sysadmin, learn server OS skills.", question,
                              quotes("To Systems Administrator"))
    assert not goes_elsewhere("Beekeepers can become teachers.", "anything", quotes("Skills"))
