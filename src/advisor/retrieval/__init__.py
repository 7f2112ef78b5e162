"""Retrieval: from a question (with its conversation) to the passages that answer it.

- ``query.py``         a question made standalone: text, careers, career preference
- ``score_lists.py``   ``ScoreList``: one way to score chunks (BM25, dense); fusion of several
- ``key_sentences.py`` every sentence of some passages, scored against a question
- ``retriever.py``     ``Retriever``: a named set of score lists, fused, re-ranked by key
                       sentences; ``STANDARD`` names bm25, dense and hybrid
- ``catalog.py``       ``Catalog``: documents, careers, sections, search and citations for the
                       reference API

Exports ``Query``, ``ScoreList``, ``KeySentence``, ``Retriever`` with ``ListsFor`` and
``STANDARD``, and ``Catalog`` with ``SectionText``.
"""

from advisor.retrieval.catalog import Catalog, SectionText
from advisor.retrieval.key_sentences import KeySentence
from advisor.retrieval.query import Query
from advisor.retrieval.retriever import STANDARD, ListsFor, Retriever
from advisor.retrieval.score_lists import ScoreList

__all__ = ["STANDARD", "Catalog", "KeySentence", "ListsFor", "Query", "Retriever", "ScoreList",
           "SectionText"]
