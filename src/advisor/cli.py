"""Thin command-line front over wiring: ``advisor <command> ...``."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from advisor.errors import AdvisorError

Handler = Callable[[argparse.Namespace], int]


def _settings(args: argparse.Namespace) -> Any:
    from advisor.config import Settings

    overrides: dict[str, Any] = {}
    if getattr(args, "corpus", None):
        overrides["corpus"] = args.corpus
    if getattr(args, "index_dir", None):
        overrides["index_dir"] = args.index_dir
    return Settings(**overrides)


def _eval_settings(args: argparse.Namespace) -> Any:
    """Settings for a benchmark: another corpus gets an index of its own, never the main one."""
    from advisor.eval_commands import eval_settings

    return eval_settings(args)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- corpus and index


def cmd_corpus_sync(args: argparse.Namespace) -> int:
    from advisor.corpus_sync import sync_corpus

    settings = _settings(args)
    target = args.corpus or settings.corpus
    written = sync_corpus(settings.corpus_manifest, Path(target), source_dir=args.source)
    where = f"from {args.source}" if args.source else "from the pinned URLs"
    _say(f"corpus: {len(written)} file(s) written {where} into {target}; all sha256 sums match")
    return 0


def cmd_index(args: argparse.Namespace) -> int:
    from advisor.wiring import build

    settings = _settings(args)
    loaded, built = build(settings, force=args.force, progress=True, on_stage=_say)
    for problem in loaded.skipped:
        _say(f"skipped {problem}")
    if built.up_to_date:
        _say(
            f"index {built.path} is up to date ({built.n_chunks} chunks, "
            f"{built.n_documents} documents)"
        )
    else:
        removed = (
            f", dropped {len(built.removed_documents)} removed document(s)"
            if built.removed_documents
            else ""
        )
        _say(
            f"index {built.path}: {built.n_chunks} chunks from {built.n_documents} documents "
            f"({built.embedded} embedded, {built.reused} reused{removed}) in "
            f"{built.seconds:.1f} s"
        )
    return 0


# ---------------------------------------------------------------- search and evaluation


def _print_hits(hits: Sequence[Any], as_json: bool, query: Any) -> None:
    if as_json:
        print(
            json.dumps(
                {
                    "query": query.text,
                    "careers": [c.name for c in query.careers],
                    "hits": [_hit_json(h) for h in hits],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    if not hits:
        print("no passages found")
    for h in hits:
        print(f"{h.rank:>2}. [{h.score:.4f}] {h.chunk.heading}")
        print("    " + h.chunk.text.strip().replace("\n", "\n    "))
        print()


def _hit_json(hit: Any) -> dict[str, Any]:
    c = hit.chunk
    return {
        "rank": hit.rank,
        "score": hit.score,
        "scores": hit.scores,
        "chunk_id": c.chunk_id,
        "doc_id": c.doc_id,
        "title": c.title,
        "heading_path": list(c.heading_path),
        "text": c.text,
        "start": c.start,
        "end": c.end,
    }


def cmd_search(args: argparse.Namespace) -> int:
    from advisor.wiring import retriever_for

    settings = _settings(args)
    retriever = retriever_for(settings)
    if args.question:
        query, hits = retriever.search(" ".join(args.question), k=args.k)
        _print_hits(hits, args.json, query)
        return 0
    _say("Ask about a career (empty line or Ctrl-D to leave).")
    history: list[str] = []
    while True:
        try:
            line = input("search> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if not line:
            return 0
        query, hits = retriever.search(line, k=args.k, history=history)
        if query.inherited:
            _say(f"(searching as: {query.text})")
        _print_hits(hits, args.json, query)
        history.append(line)


# ---------------------------------------------------------------- answers


def _answer_json(answer: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return {
        "answer": answer.text,
        "details": [asdict(d) for d in answer.details],
        "citations": [asdict(c) for c in answer.citations],
        "careers": list(answer.careers),
        "suggestions": list(answer.suggestions),
        "kind": answer.kind,
        "refused": answer.refused,
        "mode": answer.mode,
        "timings": {
            k: answer.timings.get(k) for k in ("retrieval_ms", "first_token_ms", "total_ms")
        },
        "notices": list(answer.notices),
    }


def _print_citations(citations: Sequence[Any]) -> None:
    for c in citations:
        where = " > ".join((c.title, *c.heading_path))
        print(f"  [{c.number}] {where}" + (f"\n      {c.url}" if c.url else ""))


def _service(args: argparse.Namespace) -> Any:
    """The chat service for ask/chat: the index (built if missing), and the model unless
    the answers are to be extractive."""
    from advisor.wiring import chat_service_for, open_index

    settings = _settings(args)
    index = open_index(settings, build_if_missing=True)
    return chat_service_for(settings, index=index, with_model=args.mode != "extractive")


def cmd_ask(args: argparse.Namespace) -> int:
    service = _service(args)
    answer = service.ask(" ".join(args.question), mode=args.mode)
    if args.json:
        print(json.dumps(_answer_json(answer), ensure_ascii=False, indent=2))
        return 0
    print(answer.text)
    _print_more(answer)
    for notice in answer.notices:
        _say(f"note: {notice}")
    if answer.citations:
        print("\nSources:")
        _print_citations(answer.citations)
    return 0


def _print_more(answer: Any) -> None:
    """Details and follow-up questions under an answer."""
    if answer.details:
        print("\nMore from the documents:")
        for d in answer.details:
            print(f"  - {d.text} [{d.citation}]")
    if answer.suggestions:
        print("\nYou could ask next:")
        for question in answer.suggestions:
            print(f"  - {question}")


def cmd_chat(args: argparse.Namespace) -> int:
    from advisor.types import Turn

    service = _service(args)
    _say(
        "Ask about software careers. /sources shows the passages of the last answer; Ctrl-D leaves."
    )
    history: list[Turn] = []
    last: Any = None
    while True:
        try:
            line = input("you> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if not line:
            continue
        if line == "/sources":
            if last is None:
                print("(no answer yet)")
            else:
                for i, hit in enumerate(last.hits, 1):
                    print(f"[{i}] {hit.chunk.heading}\n    {hit.chunk.text.strip()}\n")
            continue
        print("advisor> ", end="", flush=True)
        try:
            for event in service.stream(line, history, mode=args.mode):
                if event.kind == "token":
                    print(event.text, end="", flush=True)
                elif event.kind == "error":
                    _say(f"\n(note: {event.text})")
                elif event.kind == "done":
                    last = event.answer
        except AdvisorError as exc:
            print(f"\n(error: {exc})")
            continue
        print()
        if last is not None:
            _print_more(last)
        if last is not None and last.citations:
            _print_citations(last.citations)
        history += [Turn("user", line), Turn("assistant", last.text if last else "")]


def cmd_eval_answers(args: argparse.Namespace) -> int:
    from advisor.answer_evaluation import (
        has_fit_cases,
        load_fit,
        load_offtopic,
        run_answers,
        summarize,
        write_case_report,
    )
    from advisor.eval_commands import answers_diff, answers_extras
    from advisor.evaluation import load_cases
    from advisor.wiring import build, chat_service_for

    if args.diff:
        return answers_diff(args.diff, args.json)
    if not args.cases:
        raise AdvisorError("give a case file (or --diff A.jsonl B.jsonl)")
    settings = _eval_settings(args)
    fit_only = has_fit_cases(args.cases)
    cases = [] if fit_only else load_cases(args.cases)
    fit = load_fit(args.cases) if fit_only else []
    fit += load_fit(args.fit) if args.fit else []
    offtopic = load_offtopic(args.offtopic) if args.offtopic else []
    build(settings, on_stage=None if args.json else _say)
    service = chat_service_for(settings, with_model=args.mode != "extractive")

    def progress(result: Any) -> None:
        if not args.json and args.verbose:
            mark = "ok " if result.evidence_in_answer or not result.answerable else "-- "
            _say(f"{mark}{result.case_id} {result.answer.timings.get('total_ms', 0):.0f} ms")

    results = run_answers(service, cases, offtopic, mode=args.mode, fit=fit, on_result=progress)
    summary = summarize(results)
    if args.cases_out:
        write_case_report(results, args.cases_out)
        if not args.json:
            _say(f"per-question answers written to {args.cases_out}")
    inputs = [args.cases, *([args.offtopic] if args.offtopic else [])]
    with_manifest, code = answers_extras(args, summary, settings, inputs,
                                         answerable=len(cases), offtopic=len(offtopic))
    if args.json:
        print(json.dumps(with_manifest))
    else:
        for key, value in summary.items():
            print(f"{key:>22}: {value}")
    return code


# ---------------------------------------------------------------- server and query log


def cmd_serve(args: argparse.Namespace) -> int:
    from advisor.api.serve import serve

    settings = _settings(args)
    return serve(settings, host=args.host or settings.host, port=args.port or settings.port)


def cmd_report(args: argparse.Namespace) -> int:
    from advisor.errors import InputError
    from advisor.report import print_report, print_summary, summarize

    settings = _settings(args)
    if args.log:
        return print_report(args.log, as_json=args.json)
    url = args.database_url or settings.database_url
    if not args.database_url and str(settings.query_log) == "off":
        raise InputError("the query log is off (ADVISOR_QUERY_LOG=off): nothing to report")
    if not url:
        return print_report(settings.query_log, as_json=args.json)
    from advisor.querylog_pg import PostgresLog

    store = PostgresLog(url)
    try:
        return print_summary(summarize(store), as_json=args.json)
    finally:
        store.close()


# ---------------------------------------------------------------- entry point


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(prog="advisor", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        return p

    corpus = sub.add_parser("corpus", help="manage the corpus folder")
    corpus_sub = corpus.add_subparsers(dest="corpus_command", required=True)
    sync = corpus_sub.add_parser("sync", help="fill the corpus folder and check every sha256")
    sync.add_argument("--from", dest="source", type=Path, help="local mirror folder")
    sync.add_argument("--corpus", type=Path, help="target folder (default: settings)")
    sync.set_defaults(handler=cmd_corpus_sync)

    p = add("index", cmd_index, "build or refresh the index of the corpus")
    p.add_argument("--corpus", type=Path, help="folder of Markdown documents")
    p.add_argument("--force", action="store_true", help="rebuild even when nothing changed")

    p = add("search", cmd_search, "search passages (interactive without a question)")
    p.add_argument("question", nargs="*", help="the question")
    p.add_argument("-k", type=int, default=5, help="passages to show")
    p.add_argument("--json", action="store_true", help="print JSON")

    from advisor.eval_commands import add_baseline_options, add_parsers

    add_parsers(add, lambda argv: main(argv))

    modes = ["generative", "extractive"]
    p = add("ask", cmd_ask, "answer one question with citations")
    p.add_argument("question", nargs="+", help="the question")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--mode", choices=modes, default=None, help="default: settings")

    p = add("chat", cmd_chat, "a conversation in the terminal, answers streamed")
    p.add_argument("--mode", choices=modes, default=None, help="default: settings")

    p = add("eval-answers", cmd_eval_answers, "measure answers on benchmark cases")
    p.add_argument("cases", type=Path, nargs="?", help="JSONL case file")
    p.add_argument("--offtopic", type=Path, help="JSONL of questions the documents miss")
    p.add_argument(
        "--fit", type=Path, help='JSONL of "which career fits me" cases (with "acceptable")'
    )
    p.add_argument("--corpus", type=Path, help="folder of Markdown documents")
    p.add_argument("--mode", choices=modes, default="generative")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--cases-out", type=Path, help="write every case's answer and verdict here (JSONL)"
    )
    p.add_argument("--diff", type=Path, nargs=2, metavar=("A", "B"),
                   help="list the cases that flipped between two --cases-out files")
    add_baseline_options(p)

    p = add("serve", cmd_serve, "run the web chat and the API (builds the index if missing)")
    p.add_argument("--host", help="address to bind (default: settings, 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default: settings, 8000)")

    p = add("report", cmd_report, "summarize the query log")
    p.add_argument("--log", type=Path, help="SQLite query log (default: settings)")
    p.add_argument(
        "--database-url", help="PostgreSQL URL of a shared log (default: ADVISOR_DATABASE_URL)"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; domain errors become a one-line message and exit code 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # for run manifests
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("bm25s", "sentence_transformers", "transformers", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        handler: Handler = args.handler
        return handler(args)
    except AdvisorError as exc:
        print(f"advisor: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
