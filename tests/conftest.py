"""Shared fixtures: the tiny fixture corpus, the real MiniLM embedder, a fixture index, and
the fakes chat tests run on.

The fixture index is built once per session with the real all-MiniLM-L6-v2 and FAISS;
tests that change it work on a copy. ``WordsEmbedder`` (deterministic vectors from a text's
words) and ``ScriptedGenerator`` (replays scripted tokens) let the chat, composer and check
tests run without any model; tests marked ``model`` run the real SmolLM2.
"""

from __future__ import annotations

import os

# Before anything imports huggingface or tokenizers: never reach the network, no fork warnings.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import hashlib
import re
import shutil
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from advisor.chunking import ChunkerSettings
from advisor.config import Settings
from advisor.corpus import load_corpus
from advisor.embeddings import Embedder, SentenceTransformerEmbedder
from advisor.index import BuildReport, Index, build_index, load_index
from advisor.retriever import Retriever

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
FIXTURE_CORPUS = TESTS / "fixtures" / "corpus"
FIXTURE_CASES = TESTS / "fixtures" / "cases.jsonl"
# The shared data sits beside the repository (/work/shared next to /work/main, and the same in CI).
SHARED = REPO.parent / "shared"
SHARED_CORPUS = SHARED / "corpus" / "career_paths"
SITE_URL = Settings.model_fields["site_url"].default

BuildFn = Callable[..., BuildReport]


def default_chunker() -> ChunkerSettings:
    """The chunker the CLI uses when no ADVISOR_CHUNK_TOKENS is set."""
    return ChunkerSettings(max_tokens=Settings.model_fields["chunk_tokens"].default)


@pytest.fixture(scope="session")
def chunker() -> ChunkerSettings:
    """The default chunker settings, the ones the fixture index is built with."""
    return default_chunker()


@pytest.fixture(scope="session")
def fixture_corpus() -> Path:
    return FIXTURE_CORPUS


@pytest.fixture(scope="session")
def shared_corpus() -> Path:
    if not SHARED_CORPUS.is_dir():
        pytest.skip(f"the shared corpus is absent: expected {SHARED_CORPUS} beside the repository")
    return SHARED_CORPUS


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    """The real packaged all-MiniLM-L6-v2, loaded once."""
    return SentenceTransformerEmbedder.from_setting("minilm")


@pytest.fixture(scope="session")
def build_fixture_index(embedder: SentenceTransformerEmbedder) -> BuildFn:
    """A function that builds the index of a corpus folder into ``index_dir/default``."""

    def build(
        index_dir: Path,
        corpus: Path = FIXTURE_CORPUS,
        *,
        embedder: Embedder = embedder,
        chunker: ChunkerSettings | None = None,
        **kwargs: object,
    ) -> BuildReport:
        documents = load_corpus(corpus, site_url=SITE_URL).documents
        return build_index(
            documents,
            embedder=embedder,
            index_dir=index_dir,
            chunker=chunker or default_chunker(),
            **kwargs,  # type: ignore[arg-type]
        )

    return build


@pytest.fixture(scope="session")
def fixture_index_dir(
    tmp_path_factory: pytest.TempPathFactory, build_fixture_index: BuildFn
) -> Path:
    """A folder holding ``default``, the index of the fixture corpus. Do not change it."""
    index_dir = tmp_path_factory.mktemp("fixture-index")
    build_fixture_index(index_dir)
    return index_dir


@pytest.fixture
def index_copy(fixture_index_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the fixture index folder, for tests that rebuild or break it."""
    target = tmp_path / "indexes"
    shutil.copytree(fixture_index_dir, target, symlinks=True)
    return target


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A private copy of the fixture corpus, for tests that edit documents."""
    target = tmp_path / "corpus"
    shutil.copytree(FIXTURE_CORPUS, target)
    return target


@pytest.fixture(scope="session")
def fixture_index(fixture_index_dir: Path, embedder: SentenceTransformerEmbedder) -> Index:
    return load_index(fixture_index_dir, "default", embedder=embedder, chunker=default_chunker())


@pytest.fixture(scope="session")
def retriever(fixture_index: Index, embedder: SentenceTransformerEmbedder) -> Retriever:
    return Retriever(index=fixture_index, embedder=embedder)


# ---------------------------------------------------------------- fakes


class WordsEmbedder:
    """Deterministic vectors without a model: each word (lower-cased, three letters or more,
    a plural's "s" dropped) adds one to a hashed dimension, so texts that share words are
    close, as with a real embedder, and the same text always gets the same vector."""

    name = "words-test"
    dim = 8192
    stopwords = frozenset(
        "the and for what how does did are was were with that this from your you can could "
        "would should have has had into about good best some any more most much many who why "
        "when where which their them they there then than also just like want need".split()
    )

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> npt.NDArray[np.float32]:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z0-9]{3,}", text.lower()):
                if word in self.stopwords:
                    continue
                word = word[:-1] if word.endswith("s") and len(word) > 3 else word
                out[row, int(hashlib.sha256(word.encode()).hexdigest(), 16) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        normed: npt.NDArray[np.float32] = out / np.where(norms == 0, 1.0, norms)
        return normed

    def embed_query(self, text: str) -> npt.NDArray[np.float32]:
        return self.embed([text])[0]


class ScriptedGenerator:
    """A generator that replays scripted replies token by token and records every request.

    ``replies`` are used in turn (the last one repeats); ``fail`` raises GenerationError
    after the first piece; ``busy`` raises BusyError at admission, as a full queue does.
    """

    name = "scripted"
    context_size = 2048

    def __init__(self, *replies: str, fail: bool = False, busy: bool = False) -> None:
        self.replies = list(replies) or [""]
        self.fail = fail
        self.busy = busy
        self.calls: list[list[dict[str, str]]] = []
        self.closed = 0
        self.lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def stream(self, messages: Sequence[Mapping[str, str]], *, max_tokens: int,
               stop: Sequence[str] = (), timeout: float | None = None) -> Iterator[str]:
        from advisor.errors import BusyError

        if self.busy:
            raise BusyError("the model is busy", retry_after=1.0)
        with self.lock:
            reply = self.replies[min(len(self.calls), len(self.replies) - 1)]
            self.calls.append([dict(m) for m in messages])
        return self._pieces(reply, max_tokens)

    def _pieces(self, reply: str, max_tokens: int) -> Iterator[str]:
        from advisor.errors import GenerationError

        try:
            for n, piece in enumerate(re.findall(r"\S+\s*|\s+", reply)):
                if n >= max_tokens:
                    return
                if self.fail and n == 1:
                    raise GenerationError("the model server at http://10.0.0.9:8080 said 500")
                yield piece
        finally:
            self.closed += 1


@pytest.fixture(scope="session")
def scripted() -> type[ScriptedGenerator]:
    """The scripted fake generator class: ``scripted("reply one", "reply two", fail=True)``."""
    return ScriptedGenerator


def sse_events(response: Any) -> list[tuple[str, Any]]:
    """The server-sent events of a read ``text/event-stream`` response, parsed by httpx-sse:
    (event name, JSON data); a data that is not JSON (``[DONE]``) stays text."""
    import json

    from httpx_sse import EventSource

    out: list[tuple[str, Any]] = []
    for event in EventSource(response).iter_sse():
        if event.data:
            out.append((event.event, event.data if event.data == "[DONE]" else
                        json.loads(event.data)))
    return out


@pytest.fixture(scope="session")
def read_sse() -> Callable[[Any], list[tuple[str, Any]]]:
    """``read_sse(response)``: the (name, data) events of a streamed answer."""
    return sse_events


@pytest.fixture(scope="session")
def words_embedder() -> WordsEmbedder:
    return WordsEmbedder()


@pytest.fixture(scope="session")
def words_index_dir(tmp_path_factory: pytest.TempPathFactory,
                    build_fixture_index: BuildFn, words_embedder: WordsEmbedder) -> Path:
    """The fixture corpus indexed with ``WordsEmbedder`` (no model; built once)."""
    index_dir = tmp_path_factory.mktemp("words-index")
    build_fixture_index(index_dir, embedder=words_embedder)
    return index_dir


@pytest.fixture(scope="session")
def words_retriever(words_index_dir: Path, words_embedder: WordsEmbedder) -> Retriever:
    index = load_index(words_index_dir, "default", embedder=words_embedder,
                       chunker=default_chunker())
    return Retriever(index=index, embedder=words_embedder)


@pytest.fixture
def make_service(words_retriever: Retriever) -> Callable[..., Any]:
    """A chat service over the fixture corpus on fakes: ``make_service(generator, **settings)``."""
    from advisor.chat import ChatService
    from advisor.config import ChatSettings
    from advisor.prompts import PromptLibrary

    def make(generator: Any = None, **settings: Any) -> Any:
        # Word-count vectors sit lower than MiniLM's: an on-topic question reaches ~0.3.
        options = {"refusal_threshold": 0.2, "refusal_threshold_named": 0.1, **settings}
        return ChatService(retriever=words_retriever, prompts=PromptLibrary(),
                           generator=generator, settings=ChatSettings(**options))

    return make


# ---------------------------------------------------------------- the server


@pytest.fixture(scope="session")
def session_llm() -> Any:
    """The real SmolLM2 GGUF, loaded once for every server test."""
    from advisor.generator import LlamaCppGenerator, default_model_path

    return LlamaCppGenerator(model_path=default_model_path(), context_size=2048, queue_size=4)


@pytest.fixture(scope="session")
def fixture_service(fixture_index_dir: Path, embedder: SentenceTransformerEmbedder,
                    chunker: ChunkerSettings, session_llm: Any) -> Any:
    """A chat service over the fixture index with the real model (short answers)."""
    from advisor.chat import ChatService
    from advisor.config import ChatSettings, WriterSettings
    from advisor.index import load_index
    from advisor.prompts import PromptLibrary
    from advisor.retriever import Retriever

    index = load_index(fixture_index_dir, "default", embedder=embedder, chunker=chunker)
    return ChatService(retriever=Retriever(index=index, embedder=embedder),
                       prompts=PromptLibrary(), generator=session_llm,
                       settings=ChatSettings(writer=WriterSettings(max_tokens=32)))


@pytest.fixture(scope="session")
def live_server(fixture_service: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real uvicorn server on 127.0.0.1 serving the fixture service; stopped at the end."""
    import socket
    import threading
    import time

    import httpx
    import uvicorn

    from advisor.api.app import create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tmp_path_factory.mktemp("server") / "queries.sqlite"
    app = create_app(fixture_service, query_log=log)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        server.should_exit = True
        raise RuntimeError("the test server did not start")
    yield url
    server.should_exit = True
    thread.join(timeout=15)


@pytest.fixture(scope="session")
def extractive_server(
    fixture_index_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """`advisor serve` in its own process on 127.0.0.1 over a copy of the fixture index,
    extractive (no model): for floods and fuzzing, which need a server that is not sharing
    this process's CPU time and GIL. Stopped at the end of the session."""
    import socket
    import subprocess
    import sys
    import time

    import httpx

    root = tmp_path_factory.mktemp("extractive-server")
    index_dir = root / "indexes"
    shutil.copytree(fixture_index_dir, index_dir, symlinks=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(sys.path),
        "ADVISOR_CORPUS": str(FIXTURE_CORPUS),
        "ADVISOR_INDEX_DIR": str(index_dir),
        "ADVISOR_MODE": "extractive",
        "ADVISOR_QUERY_LOG": str(root / "queries.sqlite"),
        # A short queue, so a flood of a few seconds reaches it.
        "ADVISOR_SEARCH_QUEUE_SIZE": "16",
    }
    env.pop("ADVISOR_INDEX_NAME", None)
    log = (root / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "advisor.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"the extractive server did not start: {(root / 'server.log').read_text()}"
                )
            try:
                if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


# ---------------------------------------------------------------- PostgreSQL


def _postgres_bin() -> Path | None:
    """The folder of Debian's PostgreSQL server programs (initdb, pg_ctl), newest first."""
    import glob

    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(folder) / "initdb").is_file():
            return Path(folder)
    found = shutil.which("initdb")
    return Path(found).parent if found else None


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real PostgreSQL server in a throwaway folder on 127.0.0.1, run as an unprivileged
    user (``nobody`` when the tests run as root: postgres refuses root); stopped at the end.
    Yields the URL of its ``postgres`` database (user ``advisor``, trust auth on loopback)."""
    import pwd
    import socket
    import subprocess
    import tempfile

    bindir = _postgres_bin()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed: apt-get install postgresql (see .ci/run)")
    user = "nobody" if os.geteuid() == 0 else None
    # Not under pytest's root-only temp folder: the server's user must reach its data.
    folder = Path(tempfile.mkdtemp(prefix="advisor-pg-"))
    if user:
        entry = pwd.getpwnam(user)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    data, logfile = folder / "data", folder / "server.log"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    def run(*args: str) -> None:
        done = subprocess.run(args, user=user, cwd=folder, capture_output=True, text=True,
                              check=False, timeout=180)
        if done.returncode != 0:
            log = logfile.read_text(errors="replace")[-2000:] if logfile.exists() else ""
            raise RuntimeError(f"{' '.join(args[:2])} failed: {done.stderr}{done.stdout}{log}")

    try:
        run(str(bindir / "initdb"), "-D", str(data), "-U", "advisor", "--auth=trust",
            "--no-locale", "-E", "UTF8", "--no-sync")
        # fsync off: a throwaway server that dies with the tests loses nothing anyone needs.
        run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(logfile), "-w", "-t", "120",
            "-o", f"-h 127.0.0.1 -p {port} -k {folder} -F", "start")
        yield f"postgresql://advisor@127.0.0.1:{port}/postgres"
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                           user=user, cwd=folder, capture_output=True, check=False, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database on the test server for one test; dropped after it."""
    import uuid

    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    yield postgres_server.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
