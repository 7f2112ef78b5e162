"""Retrieval: from a question (with its conversation) to the passages that answer it.

- ``query.py``         a question made standalone: text, careers, career preference;
                       ``switches``: whether a text speaks of moving between careers
- ``score_lists.py``   ``ScoreList``: one way to score chunks (BM25, dense); fusion of several
- ``key_sentences.py`` every sentence of some passages, scored against a question;
                       ``overlap``: the question's words a sentence holds
- ``retriever.py``     ``Retriever``: a named set of score lists, fused, re-ranked by key
                       sentences; ``STANDARD`` names bm25, dense and hybrid
- ``catalog.py``       ``Catalog``: documents, careers, sections, search and citations for the
                       reference API

Exports ``Query`` with ``switches``, ``ScoreList``, ``KeySentence`` with ``overlap``,
``Retriever`` with ``ListsFor`` and ``STANDARD``, and ``Catalog`` with ``SectionText``.
"""

from advisor.retrieval.catalog import Catalog, SectionText
from advisor.retrieval.key_sentences import KeySentence, overlap
from advisor.retrieval.query import Query, switches
from advisor.retrieval.retriever import STANDARD, ListsFor, Retriever
from advisor.retrieval.score_lists import ScoreList

__all__ = ["STANDARD", "Catalog", "KeySentence", "ListsFor", "Query", "Retriever", "ScoreList",
           "SectionText", "overlap", "switches"]
