"""The answer: from the retrieved passages to the reply a student reads, with its citations.

- ``aspects.py``  the kinds of question as a table: words, section headings, follow-ups
- ``kinds.py``    a question's kinds, places and aspects, read from its words
- ``sections.py`` what the corpus holds by section: careers, kinds answered, line labels
- ``quotes.py``   ``Quote`` and ``Composition`` records; cut a sentence to what answers
- ``shapes.py``   answers with a shape of their own: compare, switch, pay, time, fit
- ``compose_settings.py`` ``ComposeSettings``: the weights and lengths of composing
- ``lines.py``    the lead's lines: the best sentence, a close runner-up, the rest of their lines
- ``compose.py``  ``Composer``: ranks sentences; lead, details, suggestions
- ``checks.py``   the support check of model sentences; citation, injection, leak checks
- ``writer.py``   the model's checked sentence: prompt, generate, support check
- ``chat.py``     ``ChatService``: question + history -> ``Answer``, whole or streamed

Exports ``ChatService`` and its ``Mode``, ``Composer`` with ``ComposeSettings``, and
``support`` (the support check, which the answer benchmark applies again).
"""

from advisor.answer.chat import ChatService, Mode
from advisor.answer.checks import support
from advisor.answer.compose import Composer
from advisor.answer.compose_settings import ComposeSettings

__all__ = ["ChatService", "ComposeSettings", "Composer", "Mode", "support"]
