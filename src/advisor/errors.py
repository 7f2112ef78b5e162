"""Domain errors, translated to HTTP responses in ``api/`` and to exit codes in ``cli/``.

AdvisorError
├── ConfigError            a setting is missing or invalid
├── CorpusError            the corpus folder cannot be used
│   ├── DocumentError      one document is broken (it is skipped, the others still index)
│   └── ChecksumError      a synced file is missing or does not match its sha256
├── IndexError_            the index on disk cannot be used
│   ├── IndexMissingError  no index has been built yet
│   ├── IndexMismatchError built with another embedder or chunker: rebuild it
│   ├── IndexCorruptError  files are missing or unreadable
│   └── IndexBusyError     another build holds the index's lock
├── ModelError             an embedding or language model cannot be loaded
├── GenerationError        the language model failed or timed out
│   └── BusyError          the generation queue is full (retry later)
├── OverloadedError        too many searches wait for the query encoder (retry later)
├── InputError             a question, history or id is invalid
│   └── NotFoundError      an unknown career or chunk id
├── QueryLogError          the query log cannot be opened, read or written
└── EvaluationError        a benchmark case file is invalid
"""

from __future__ import annotations


class AdvisorError(Exception):
    """Base of every error the advisor raises on purpose."""


class ConfigError(AdvisorError):
    """A setting is missing or invalid."""


class CorpusError(AdvisorError):
    """The corpus folder cannot be used."""


class DocumentError(CorpusError):
    """One document is broken; it names the file and the reason."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class ChecksumError(CorpusError):
    """A corpus file is missing or does not match its pinned sha256."""


class IndexError_(AdvisorError):  # noqa: N801 - trailing underscore avoids the builtin
    """The index on disk cannot be used."""


class IndexMissingError(IndexError_):
    """No index has been built yet."""


class IndexMismatchError(IndexError_):
    """The index was built with another embedder or chunker."""


class IndexCorruptError(IndexError_):
    """Index files are missing or unreadable."""


class IndexBusyError(IndexError_):
    """Another build holds the index's lock for longer than this build waits."""


class ModelError(AdvisorError):
    """A model file cannot be found or loaded."""


class GenerationError(AdvisorError):
    """The language model failed or ran out of time."""


class BusyError(GenerationError):
    """The generation queue is full."""

    def __init__(self, message: str, retry_after: float = 5.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class OverloadedError(AdvisorError):
    """Too many searches wait for the query encoder, or one waited too long."""

    def __init__(self, message: str, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class InputError(AdvisorError):
    """A question, history or id is invalid."""


class NotFoundError(InputError):
    """An unknown career or chunk id."""


class QueryLogError(AdvisorError):
    """The query log (SQLite file or PostgreSQL database) cannot be opened, read or written."""


class EvaluationError(AdvisorError):
    """A benchmark case file is invalid."""
