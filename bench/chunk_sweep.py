"""Chunk-size sweep on the dev cases: one index per size, bm25 / dense / hybrid metrics.

    .venv/bin/python bench/chunk_sweep.py [--sizes 64 96 128 160 192]

Vectors are reused between sizes (they are keyed by text), so each size embeds only the
chunk texts that differ.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from advisor.config import Settings  # noqa: E402
from advisor.corpus import (
    ChunkerSettings,  # noqa: E402
    load_corpus,  # noqa: E402
)
from advisor.embeddings import SentenceTransformerEmbedder  # noqa: E402
from advisor.evals import (
    load_cases,  # noqa: E402
    run_cases,  # noqa: E402
)
from advisor.index import build_index, load_index  # noqa: E402
from advisor.retrieval import Retriever  # noqa: E402
from advisor.wiring import retriever_names  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 96, 128, 160, 192])
    parser.add_argument("--corpus", type=Path, default=SHARED / "corpus" / "career_paths")
    args = parser.parse_args()
    settings = Settings()
    docs = load_corpus(args.corpus).documents
    embedder = SentenceTransformerEmbedder.from_setting(settings.embedder)
    questions = load_cases(SHARED / "bench" / "dev_questions.jsonl")
    conversations = load_cases(SHARED / "bench" / "dev_conversations.jsonl")
    print(
        f"{'tokens':>6} {'chunks':>6} {'retriever':>9} {'hit@1':>6} {'hit@5':>6} {'mrr@10':>6} "
        f"{'doc@5':>6} {'conv hit@5':>10}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            chunker = ChunkerSettings(max_tokens=size)
            build_index(docs, embedder=embedder, index_dir=Path(tmp), chunker=chunker)
            index = load_index(Path(tmp), "default", embedder=embedder, chunker=chunker)
            retriever = Retriever(index=index, embedder=embedder, settings=settings.retrieval)
            for mode in retriever_names():
                q = run_cases(retriever, questions, mode).metrics
                c = run_cases(retriever, conversations, mode).metrics
                print(
                    f"{size:>6} {len(index.chunks):>6} {mode:>9} {q['hit@1']:>6.3f} "
                    f"{q['hit@5']:>6.3f} {q['mrr@10']:>6.3f} {q['doc_hit@5']:>6.3f} "
                    f"{c['hit@5']:>10.3f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
