""""Which career fits me?": up to three careers of the corpus for what a student describes,
each with a quoted reason from its own document."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from advisor.kinds import interests, under
from advisor.types import Hit

if TYPE_CHECKING:
    from advisor.compose import Composer, Composition
    from advisor.retriever import Query

#: Sections that describe other careers or reading, not what this job is like.
NOT_ABOUT_THE_JOB = ("switching careers", "transition", "transferable", "future reading", "prompts")
#: Where a job's nature is told: a match there says more than one in a reading list.
ABOUT_THE_JOB = ["work", "skills"]


def fit(composer: Composer, query: Query) -> Composition:
    """The careers whose passages best match the student's interests, best first."""
    from advisor.compose import Composition

    s = composer.settings
    retriever = composer.retriever
    careers = [d for d in retriever.index.documents if composer.is_career(d)]
    interest, hits = retriever.search(interests(query.question), k=s.fit_pool, doc_ids=careers)
    by_doc: dict[str, list[Hit]] = {}
    for hit in hits:
        if not under(hit.chunk.heading_path, NOT_ABOUT_THE_JOB):
            by_doc.setdefault(hit.chunk.doc_id, []).append(hit)
    order = sorted(by_doc, key=lambda d: (-doc_score(by_doc[d]), d))[: s.fit_careers]
    lead = []
    for doc in order:
        ranked = composer.rank(interest, by_doc[doc][:3], ABOUT_THE_JOB, [])
        if ranked:
            lead.append(replace(ranked[0], name=composer.career_name(doc)))
    chosen = tuple(q.hit.chunk.doc_id for q in lead)
    preface = composer.prompts.render("fit.j2", count=len(lead))
    return Composition(kind="fit", lead=tuple(lead), careers=chosen, preface=preface)


def doc_score(hits: list[Hit]) -> float:
    """A career's match: its best passage, and a little for a second one."""
    scores = sorted((h.score for h in hits), reverse=True)
    return scores[0] + 0.5 * (scores[1] if len(scores) > 1 else 0.0)
