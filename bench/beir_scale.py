"""A BEIR-format run at scale: the dev export grown to >= 20k passages with distractors.

    nice -n 10 .venv/bin/python bench/beir_scale.py [--passages 20000] [--ann flat]

1. ``advisor export-beir`` writes the corpus chunks and the dev cases (questions and
   conversations) as a BEIR folder: the base.
2. Distractors are added until the corpus holds ``--passages`` passages: each one sits under a
   real career and one of its headings, and recombines 3 sentences taken from 3 other passages
   of that career's document (on topic, so hard to tell from the real passages). A sentence
   holding any case's evidence string is never used, so no distractor is relevant under the
   evidence rule and the dev qrels stay exact. (Sentences of the career's own document keep
   their sentence vectors, "<career>: <sentence>", already in the index: only the distractor
   passages are embedded, which keeps a 20k run to about 20k encodings.)
3. The base and the grown folders are evaluated with ``advisor eval --beir --retriever all``.
   The grown index is first built on its own (index time, peak RSS of the build), then
   searched (query latency p50, peak RSS of the search process).

Each step is a child process, so its peak RSS is its own (``os.wait4``). Vectors of texts
embedded before (the base passages) are reused from the index folder. Writes ``result.json``
and ``result.md`` under ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from advisor.evals import load_cases
from advisor.text import fold, passage_sentences

SHARED = Path(__file__).resolve().parents[2] / "shared"
CASES = [SHARED / "bench" / "dev_questions.jsonl", SHARED / "bench" / "dev_conversations.jsonl"]
FIGURES = ("hit@1", "hit@5", "hit@10", "mrr@10", "ndcg@10", "recall@100")


def child(argv: list[str], *, env: dict[str, str] | None = None) -> tuple[str, float, float]:
    """Run one step as a child process: its stdout, wall seconds and peak RSS in MB."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        sys.exit(f"step failed ({proc.returncode}): {' '.join(argv)}")
    return out, time.perf_counter() - started, usage.ru_maxrss / 1024


def grow(base: Path, grown: Path, total: int, seed: int) -> int:
    """Copy ``base`` into ``grown`` with distractors appended until ``total`` passages."""
    evidence = [fold(e) for path in CASES for case in load_cases(path) for e in case.evidence]
    entries = [json.loads(line) for line in (base / "corpus.jsonl").open(encoding="utf-8")]
    # Per document, the usable sentences of each of its passages.
    by_doc: dict[str, list[list[str]]] = {}
    headings: dict[str, list[dict[str, Any]]] = {}
    for e in entries:
        meta = e["metadata"]
        usable = [s.text for s in passage_sentences(e["text"])
                  if s.indexed and s.quotable and not any(ev in fold(s.text) for ev in evidence)]
        if usable:
            headings.setdefault(meta["doc_id"], []).append(meta)
            by_doc.setdefault(meta["doc_id"], []).append(usable)
    rng = random.Random(seed)
    docs = sorted(d for d in headings if len(by_doc[d]) >= 3)
    (grown / "qrels").mkdir(parents=True, exist_ok=True)
    for name in ("queries.jsonl", "qrels/test.tsv"):
        (grown / name).write_bytes((base / name).read_bytes())
    added = 0
    with (grown / "corpus.jsonl").open("w", encoding="utf-8") as out:
        for e in entries:
            out.write(json.dumps(e, ensure_ascii=False) + "\n")
        while len(entries) + added < total:
            doc = rng.choice(docs)
            where = rng.choice(headings[doc])
            picked = [rng.choice(p) for p in rng.sample(by_doc[doc], 3)]
            text = "\n".join(f"* {s}" for s in picked)
            if any(ev in fold(text) for ev in evidence):
                continue
            meta = {**where, "start": 0, "end": len(text), "n_tokens": len(text.split())}
            title = " > ".join([where["doc_title"], *where["heading_path"]])
            record = {"_id": f"distractor-{added:06d}", "title": title, "text": text,
                      "metadata": meta}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            added += 1
    return added


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--passages", type=int, default=20_000)
    parser.add_argument("--ann", choices=["flat", "hnsw", "ivf"], default="flat")
    parser.add_argument("--out", type=Path, default=Path("reports/beir-scale"))
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    advisor = [sys.executable, "-m", "advisor.cli"]
    base, grown = args.out / "base", args.out / f"grown-{args.passages}"
    cases = [a for path in CASES for a in ("--cases", str(path))]
    child([*advisor, "export-beir", str(base), *cases])
    added = grow(base, grown, args.passages, args.seed)
    print(f"grown: {added} distractors added ({args.passages} passages)", flush=True)
    env = {"ADVISOR_ANN": args.ann}
    build = ("import sys; from pathlib import Path; "
             "from advisor.cli.eval_commands import index_for, eval_settings; "
             "import argparse; a = argparse.Namespace(beir=Path(sys.argv[1]), corpus=None, "
             "index_dir=None); index_for(a, eval_settings(a), False)")
    result: dict[str, object] = {"passages": args.passages, "distractors": added,
                                 "ann": args.ann}
    _, seconds, rss = child([sys.executable, "-c", build, str(grown)], env=env)
    result["index_s"] = round(seconds, 1)
    result["index_peak_rss_mb"] = round(rss)
    figures = {}
    for name, folder in (("base", base), ("grown", grown)):
        out, _, rss = child([*advisor, "eval", "--beir", str(folder), "--retriever", "all",
                             "--json"], env=env)
        figures[name] = json.loads(out)
        result[f"{name}_search_peak_rss_mb"] = round(rss)
    rows = ["| retriever | figure | base | grown | drop |", "|---|---|---|---|---|"]
    for retriever in ("bm25", "dense", "hybrid"):
        b, g = figures["base"][retriever], figures["grown"][retriever]
        for f in (*FIGURES, "latency_ms_p50"):
            rows.append(f"| {retriever} | {f} | {b[f]} | {g[f]} | {round(b[f] - g[f], 4)} |")
    result["figures"] = {k: {r: {f: v[r][f] for f in (*FIGURES, "latency_ms_p50")}
                             for r in ("bm25", "dense", "hybrid")} for k, v in figures.items()}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "result.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    head = [f"# BEIR at scale: {args.passages} passages ({added} distractors), ANN {args.ann}",
            "", f"index build {result['index_s']} s, peak RSS {result['index_peak_rss_mb']} MB; "
            f"search peak RSS base {result['base_search_peak_rss_mb']} MB, grown "
            f"{result['grown_search_peak_rss_mb']} MB", ""]
    (args.out / "result.md").write_text("\n".join(head + rows) + "\n", encoding="utf-8")
    print("\n".join(head + rows))


if __name__ == "__main__":
    main()
