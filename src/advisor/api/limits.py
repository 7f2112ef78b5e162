"""Budgets a request must keep before any work starts: message length and history size.

Every text of a request is matched against the career names and may be embedded, so the
API bounds what one request can make the server read: each message to the question limit,
the history to a number of turns and a number of characters.
"""

from __future__ import annotations

from collections.abc import Sequence

from advisor.errors import InputError
from advisor.types import Turn


def check_lengths(texts: Sequence[str], *, max_chars: int) -> None:
    """Refuse (InputError, 422) a request with any message longer than ``max_chars``."""
    for number, text in enumerate(texts, 1):
        if len(text) > max_chars:
            raise InputError(
                f"message {number} has {len(text)} characters; each message may have at "
                f"most {max_chars}"
            )


def recent_history(history: Sequence[Turn], *, max_turns: int, max_chars: int) -> list[Turn]:
    """The latest turns that fit both budgets; older turns are left out, as a chat client
    resends the whole conversation and only its recent part steers the answer."""
    kept: list[Turn] = []
    used = 0
    for turn in reversed(history):
        if len(kept) >= max_turns or used + len(turn.content) > max_chars:
            break
        kept.append(turn)
        used += len(turn.content)
    kept.reverse()
    return kept
