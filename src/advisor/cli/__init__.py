"""The command line: ``advisor <command>``, a thin front over ``wiring``; domain errors become a
one-line message and exit code 2.

- ``commands.py``        the parser and ``main``; corpus sync, index, serve and report
- ``answer_commands.py`` advisor search, ask, chat and eval-answers
- ``eval_commands.py``   advisor eval, export-beir and baseline
- ``model_commands.py``  advisor train-ranker, and eval-answers --cv

Exports ``main`` (the ``advisor`` script) and ``build_parser``. The commands import what they
run when they run, so ``advisor --help`` loads no model library.
"""

from advisor.cli.commands import build_parser, main

__all__ = ["build_parser", "main"]
