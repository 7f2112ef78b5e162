"""Thin command-line front over wiring: ``advisor <command> ...``."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from advisor.config import Settings, load_settings
from advisor.errors import AdvisorError

Handler = Callable[[argparse.Namespace], int]


def _settings(args: argparse.Namespace) -> Settings:
    from advisor.cli.answer_commands import settings_for

    return settings_for(args)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- corpus and index


def cmd_corpus_sync(args: argparse.Namespace) -> int:
    from advisor.corpus import sync_corpus

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


# ---------------------------------------------------------------- server and query log


def cmd_serve(args: argparse.Namespace) -> int:
    from advisor.api import serve

    settings = _settings(args)
    return serve(settings, host=args.host or settings.api.host,
                 port=args.port or settings.api.port)


def cmd_report(args: argparse.Namespace) -> int:
    from advisor.errors import InputError
    from advisor.querylog import open_query_log, print_report, print_summary, summarize

    settings = _settings(args)
    if args.log:
        return print_report(args.log, as_json=args.json)
    url = args.database_url or settings.database_url
    if not args.database_url and str(settings.query_log) == "off":
        raise InputError("the query log is off (ADVISOR_QUERY_LOG=off): nothing to report")
    if not url:
        return print_report(settings.query_log, as_json=args.json)
    store = open_query_log(path=None, database_url=url)  # PostgreSQL: a URL is given
    assert store is not None
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

    from advisor.cli.answer_commands import add_parsers as add_answer_parsers
    from advisor.cli.eval_commands import add_parsers as add_eval_parsers
    from advisor.cli.model_commands import add_parsers as add_model_parsers

    add_answer_parsers(add)
    add_eval_parsers(add, lambda argv: main(argv))
    add_model_parsers(add)

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
    try:
        from advisor.wiring import configure_runtime

        configure_runtime(load_settings())
        handler: Handler = args.handler
        return handler(args)
    except AdvisorError as exc:
        print(f"advisor: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
