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


def test_a_model_sentence_without_a_verb_is_dropped():
    from advisor.answer.writer import LeadWriter
    from advisor.llm import PromptLibrary

    class Silent:
        def count_tokens(self, text: str) -> int:
            return len(text.split())

    text = "Cloud Engineers design cloud platforms and the networks of a company in AWS."
    passage = Chunk("8-Cloud_Engineer#1", "8-Cloud_Engineer", "Cloud Engineer",
                    ("Role Definition",), text, 0, len(text), len(text.split()))
    lead = [Quote(Hit(passage, 1.0, 1), text, 0, 1.0, "", 0, number=1)]
    writer = LeadWriter(generator=Silent(), prompts=PromptLibrary(),  # type: ignore[arg-type]
                        verbs=frozenset({"design"}))
    question = "What is the job like?"
    kept, dropped = writer.judge("Cloud Engineers with cloud platforms and networks in AWS.",
                                 question, lead)
    assert kept is None and dropped is not None and dropped.reason == "not a clause: no verb"
    said = "Cloud Engineers design networks for a company, in AWS."
    kept, dropped = writer.judge(said, question, lead)
    assert kept == f"{said} [1]" and dropped is None
