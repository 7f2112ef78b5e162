"""The answer: from the retrieved passages to the reply a student reads, with its citations.

- ``aspects.py``  the kinds of question as a table: section headings, words, follow-ups
- ``kinds.py``    places, spans of time, comparisons and heading matches, read from words
- ``sections.py`` what the corpus holds by section: careers, kinds answered, line labels, verbs
- ``quotes.py``   ``Quote`` and ``Composition`` records; cut a sentence to what answers
- ``checks.py``   the support check of model sentences; citation, injection and leak checks
- ``clauses.py``  whether a model sentence is a clause (a verb the documents use)
- ``features.py`` the signals of every candidate sentence that the sentence ranker weighs
- ``model.py``    ``AnswerModel``, learned from cases: the kind model, the follow-up model and
                  the sentence ranker, read from ``model.json`` (``advisor train-ranker``)
- ``shapes.py``   answers with a shape of their own: compare, switch, pay, time, fit
- ``compose_settings.py`` ``ComposeSettings``: the lengths and margins of composing
- ``lines.py``    the lead: the best sentences that fit, line by line; a transition's item
- ``compose.py``  ``Composer``: kinds, ranked sentences; lead, details, suggestions
- ``writer.py``   the model's checked sentence: prompt, generate, support check
- ``chat.py``     ``ChatService``: question + history -> ``Answer``, whole or streamed; which
                  turns follow the conversation and what its subject is

Exports ``ChatService`` and its ``Mode``, ``Composer`` with ``ComposeSettings``, ``support``
(the support check, which the answer benchmark applies again), ``AnswerModel`` with
``load_model`` and the parts training builds it from (``FEATURES``, ``GROUPS``, ``KINDS``,
``Candidates``, ``Signals``, ``section_kinds``; ``model`` is a module).
"""

from advisor.answer import model
from advisor.answer.chat import ChatService, Mode
from advisor.answer.checks import support
from advisor.answer.compose import Composer
from advisor.answer.compose_settings import ComposeSettings
from advisor.answer.features import FEATURES, GROUPS, KINDS, Candidates, Signals, section_kinds
from advisor.answer.model import AnswerModel, load_model

__all__ = ["FEATURES", "GROUPS", "KINDS", "AnswerModel", "Candidates", "ChatService",
           "ComposeSettings", "Composer", "Mode", "Signals", "load_model", "model",
           "section_kinds", "support"]
