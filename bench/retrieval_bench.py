"""Retrieval performance, one run: build throughput, rebuild, search latency, exact vs ANN.

    .venv/bin/python bench/retrieval_bench.py [--corpus ../shared/corpus/career_paths]

Prints: full index build time and texts/s next to raw sentence-transformers encoding of the
same texts (ratio, target >= 0.9); the no-change rebuild time; in-process search latency
p50/p95 next to raw query-encode + FAISS for the same queries (target p50 <= 20 ms); and
FAISS exact vs HNSW and IVF on 100k synthetic 384-d vectors (latency and recall@10).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from advisor.config import Settings  # noqa: E402
from advisor.corpus import (  # noqa: E402
    ChunkerSettings,
    career_name,  # noqa: E402
    chunk_corpus,
    load_corpus,  # noqa: E402
    search_text,
    sentence_texts,
)
from advisor.embeddings import SentenceTransformerEmbedder  # noqa: E402
from advisor.index import build_faiss, build_index, load_index  # noqa: E402
from advisor.retrieval import Retriever  # noqa: E402

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared"


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(p / 100 * len(values) + 0.5) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=SHARED / "corpus" / "career_paths")
    parser.add_argument("--cases", type=Path, default=SHARED / "bench" / "dev_questions.jsonl")
    parser.add_argument("--synthetic", type=int, default=100_000)
    args = parser.parse_args()
    settings = Settings()
    chunker = ChunkerSettings(max_tokens=settings.chunk_tokens)
    docs = load_corpus(args.corpus, site_url=settings.site_url).documents
    embedder = SentenceTransformerEmbedder.from_setting(settings.embedder)
    embedder.embed(["warm up the model"])

    # The same texts the build embeds: chunk texts and sentence texts.
    chunks = chunk_corpus(list(docs), chunker)
    names = {d.doc_id: career_name(d.title) for d in docs}
    texts = [search_text(c) for c in chunks]
    texts += [t for c in chunks for t in sentence_texts(c, names[c.doc_id])]
    unique = list(dict.fromkeys(texts))
    from sentence_transformers import SentenceTransformer

    raw_model = SentenceTransformer(str(embedder.path), device="cpu", local_files_only=True)
    started = time.perf_counter()
    raw_model.encode(unique, batch_size=embedder.batch_size, normalize_embeddings=True)
    raw_s = time.perf_counter() - started

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        full = build_index(docs, embedder=embedder, index_dir=folder, chunker=chunker)
        again = build_index(docs, embedder=embedder, index_dir=folder, chunker=chunker)
        index = load_index(folder, "default", embedder=embedder, chunker=chunker)
        print("== index build")
        print(f"texts embedded: {full.embedded} ({len(chunks)} chunks + sentences)")
        print(
            f"full build: {full.seconds:.1f} s = {full.embedded / full.seconds:.1f} texts/s "
            f"({len(chunks) / full.seconds:.1f} chunks/s)"
        )
        print(
            f"raw sentence-transformers encode of the same texts: {raw_s:.1f} s = "
            f"{len(unique) / raw_s:.1f} texts/s"
        )
        print(f"throughput ratio build/raw: {raw_s / full.seconds:.3f} (target >= 0.9)")
        print(f"no-change rebuild: {again.seconds:.2f} s (up_to_date={again.up_to_date})")

        questions = [
            json.loads(line)["question"]
            for line in args.cases.read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
        retriever = Retriever(index=index, embedder=embedder, settings=settings.retrieval)
        for q in questions[:5]:
            retriever.search(q)
        ours, raw = [], []
        for q in questions:
            t = time.perf_counter()
            retriever.search(q, k=5)
            ours.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            vector = raw_model.encode([q], normalize_embeddings=True)
            index.faiss_index.search(np.asarray(vector, dtype=np.float32), 5)
            raw.append((time.perf_counter() - t) * 1000)
        print("== search latency (in-process, hybrid, k=5)")
        print(
            f"advisor search: p50 {statistics.median(ours):.1f} ms, p95 {pct(ours, 95):.1f} ms "
            f"over {len(ours)} queries (target p50 <= 20 ms)"
        )
        print(f"raw encode + FAISS: p50 {statistics.median(raw):.1f} ms, p95 {pct(raw, 95):.1f} ms")

    print(f"== FAISS exact vs ANN on {args.synthetic} synthetic clustered 384-d vectors")
    # Clustered like real sentence embeddings (topics), not uniform noise: uniform random
    # 384-d points have no near neighbours at all, which no ANN index is built for.
    rng = np.random.default_rng(0)
    centers = rng.standard_normal((2000, 384)).astype(np.float32)
    labels = rng.integers(0, len(centers), args.synthetic)
    base = centers[labels] + 0.6 * rng.standard_normal((args.synthetic, 384)).astype(np.float32)
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    picks = rng.choice(len(base), 200, replace=False)
    queries = base[picks] + 0.05 * rng.standard_normal((200, 384)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    truth = None
    for kind in ("flat", "hnsw", "ivf"):
        t = time.perf_counter()
        ann = build_faiss(base, kind)
        build_s = time.perf_counter() - t
        lat = []
        found = []
        for q in queries:
            t = time.perf_counter()
            _, ids = ann.search(q.reshape(1, -1), 10)
            lat.append((time.perf_counter() - t) * 1000)
            found.append(ids[0])
        if truth is None:
            truth = found
        recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, truth, strict=True)])
        print(
            f"{kind:>5}: build {build_s:6.1f} s, search p50 {statistics.median(lat):6.2f} ms, "
            f"p95 {pct(lat, 95):6.2f} ms, recall@10 {recall:.3f}"
        )


if __name__ == "__main__":
    main()
