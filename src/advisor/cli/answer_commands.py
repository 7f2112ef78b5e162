"""The commands that answer: ``advisor search``, ``ask``, ``chat`` and ``eval-answers``."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from advisor.config import Settings, load_settings
from advisor.errors import AdvisorError
from advisor.evals import say

Handler = Callable[[argparse.Namespace], int]
MODES = ["generative", "extractive"]


def settings_for(args: argparse.Namespace) -> Settings:
    """The settings, with the folders a command's options name instead of theirs."""
    paths = {key: getattr(args, key) for key in ("corpus", "index_dir") if getattr(args, key, None)}
    return load_settings(**paths)


def _typed(prompt: str) -> Iterator[str]:
    """Lines typed at ``prompt``, stripped, until Ctrl-D or Ctrl-C."""
    while True:
        try:
            yield input(prompt).strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return


# ---------------------------------------------------------------- search


def hit_json(hit: Any) -> dict[str, Any]:
    """A hit as the JSON of ``advisor search --json``."""
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


def _print_hits(hits: Sequence[Any], as_json: bool, query: Any) -> None:
    if as_json:
        found = {"query": query.text, "careers": [c.name for c in query.careers],
                 "hits": [hit_json(h) for h in hits]}
        print(json.dumps(found, ensure_ascii=False, indent=2))
        return
    if not hits:
        print("no passages found")
    for h in hits:
        print(f"{h.rank:>2}. [{h.score:.4f}] {h.chunk.heading}")
        print("    " + h.chunk.text.strip().replace("\n", "\n    "))
        print()


def cmd_search(args: argparse.Namespace) -> int:
    from advisor.wiring import retriever_for

    retriever = retriever_for(settings_for(args))
    if args.question:
        query, hits = retriever.search(" ".join(args.question), k=args.k)
        _print_hits(hits, args.json, query)
        return 0
    say("Ask about a career (empty line or Ctrl-D to leave).")
    history: list[str] = []
    for line in _typed("search> "):
        if not line:
            return 0
        query, hits = retriever.search(line, k=args.k, history=history)
        if query.inherited:
            about = " and ".join(c.name for c in query.careers)
            say(f"(searching as: {query.text} - about {about})")
        _print_hits(hits, args.json, query)
        history.append(line)
    return 0


# ---------------------------------------------------------------- answers


def answer_json(answer: Any) -> dict[str, Any]:
    """An answer as the JSON of ``advisor ask --json``."""
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


def _service(args: argparse.Namespace) -> Any:
    """The chat service for ask/chat: the index (built if missing), and the model unless
    the answers are to be extractive."""
    from advisor.wiring import chat_service_for, open_index

    settings = settings_for(args)
    index = open_index(settings, build_if_missing=True)
    return chat_service_for(settings, index=index, with_model=args.mode != "extractive")


def cmd_ask(args: argparse.Namespace) -> int:
    service = _service(args)
    answer = service.ask(" ".join(args.question), mode=args.mode)
    if args.json:
        print(json.dumps(answer_json(answer), ensure_ascii=False, indent=2))
        return 0
    print(answer.text)
    _print_more(answer)
    for notice in answer.notices:
        say(f"note: {notice}")
    if answer.citations:
        print("\nSources:")
        _print_citations(answer.citations)
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from advisor.types import Turn

    service = _service(args)
    say("Ask about software careers. /sources shows the passages of the last answer; "
        "Ctrl-D leaves.")
    history: list[Turn] = []
    last: Any = None
    for line in _typed("you> "):
        if not line:
            continue
        if line == "/sources":
            if last is None:
                print("(no answer yet)")
            for i, hit in enumerate(last.hits if last else (), 1):
                print(f"[{i}] {hit.chunk.heading}\n    {hit.chunk.text.strip()}\n")
            continue
        print("advisor> ", end="", flush=True)
        try:
            for event in service.stream(line, history, mode=args.mode):
                if event.kind == "token":
                    print(event.text, end="", flush=True)
                elif event.kind == "error":
                    say(f"\n(note: {event.text})")
                elif event.kind == "done":
                    last = event.answer
        except AdvisorError as exc:
            print(f"\n(error: {exc})")
            continue
        print()
        if last is not None:
            _print_more(last)
            _print_citations(last.citations)
        history += [Turn("user", line), Turn("assistant", last.text if last else "")]
    return 0


def cmd_eval_answers(args: argparse.Namespace) -> int:
    from advisor.cli.eval_commands import answers_diff, answers_extras, eval_settings
    from advisor.evals import (
        has_fit_cases,
        load_cases,
        load_fit,
        load_offtopic,
        run_answers,
        summarize,
        write_case_report,
    )
    from advisor.wiring import build, chat_service_for

    if args.diff:
        return answers_diff(args.diff, args.json)
    if not args.cases:
        raise AdvisorError("give a case file (or --diff A.jsonl B.jsonl)")
    if args.cv:
        from advisor.cli.model_commands import cmd_cross_validate

        return cmd_cross_validate(args)
    settings = eval_settings(args)
    fit_only = has_fit_cases(args.cases)
    cases = [] if fit_only else load_cases(args.cases)
    fit = load_fit(args.cases) if fit_only else []
    fit += load_fit(args.fit) if args.fit else []
    offtopic = load_offtopic(args.offtopic) if args.offtopic else []
    build(settings, on_stage=None if args.json else say)
    service = chat_service_for(settings, with_model=args.mode != "extractive")

    def progress(result: Any) -> None:
        if not args.json and args.verbose:
            mark = "ok " if result.evidence_in_answer or not result.answerable else "-- "
            say(f"{mark}{result.case_id} {result.answer.timings.get('total_ms', 0):.0f} ms")

    results = run_answers(service, cases, offtopic, mode=args.mode, fit=fit, on_result=progress)
    summary = summarize(results)
    if args.cases_out:
        write_case_report(results, args.cases_out)
        if not args.json:
            say(f"per-question answers written to {args.cases_out}")
    inputs = [args.cases, *([args.offtopic] if args.offtopic else [])]
    with_manifest, code = answers_extras(args, summary, settings, inputs,
                                         answerable=len(cases), offtopic=len(offtopic))
    if args.json:
        print(json.dumps(with_manifest))
    else:
        for key, value in summary.items():
            print(f"{key:>22}: {value}")
    return code


def add_parsers(add: Callable[[str, Handler, str], argparse.ArgumentParser]) -> None:
    """The parsers of ``search``, ``ask``, ``chat`` and ``eval-answers``."""
    from advisor.cli.eval_commands import add_baseline_options

    p = add("search", cmd_search, "search passages (interactive without a question)")
    p.add_argument("question", nargs="*", help="the question")
    p.add_argument("-k", type=int, default=5, help="passages to show")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = add("ask", cmd_ask, "answer one question with citations")
    p.add_argument("question", nargs="+", help="the question")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--mode", choices=MODES, default=None, help="default: settings")

    p = add("chat", cmd_chat, "a conversation in the terminal, answers streamed")
    p.add_argument("--mode", choices=MODES, default=None, help="default: settings")

    p = add("eval-answers", cmd_eval_answers, "measure answers on benchmark cases")
    p.add_argument("cases", type=Path, nargs="?", help="JSONL case file")
    p.add_argument("--offtopic", type=Path, help="JSONL of questions the documents miss")
    p.add_argument(
        "--fit", type=Path, help='JSONL of "which career fits me" cases (with "acceptable")'
    )
    p.add_argument("--corpus", type=Path, help="folder of Markdown documents")
    p.add_argument("--mode", choices=MODES, default="generative")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--cases-out", type=Path, help="write every case's answer and verdict here (JSONL)"
    )
    p.add_argument("--diff", type=Path, nargs=2, metavar=("A", "B"),
                   help="list the cases that flipped between two --cases-out files")
    p.add_argument("--cv", type=int, default=0, metavar="K",
                   help="cross-validate: train the answer model on K-1 folds (grouped by "
                   "document) of the cases, answer the held-out fold, K times")
    p.add_argument("--pool", type=Path, action="append", default=[],
                   help="with --cv: another case file of the pool (repeatable)")
    add_baseline_options(p)
