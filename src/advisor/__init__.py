"""advisor: a local career advisor that answers from career documents, with citations."""

__version__ = "0.1.0"
