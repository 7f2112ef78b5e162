"""Shared fixtures in two tiers, and the hook that sorts tests into them.

The fast tier (``pytest -m "not model"``) runs on fakes (tests/fixtures/fakes.py):
``WordsEmbedder`` (deterministic vectors from a text's words) indexes the fixture corpus once
per session (``words_index_dir``, ``words_retriever``), ``ScriptedGenerator`` replays scripted
tokens (``scripted``), ``make_service`` and ``fake_server`` serve them, ``fake_wiring`` and
``fake_cli`` run the command line on them.

The model tier (``pytest -m model``) holds what a fake cannot prove: the real
all-MiniLM-L6-v2 (``embedder``, ``fixture_index_dir``, ``retriever``), the SmolLM2 GGUF through
llama.cpp (``session_llm``, ``fixture_service``, ``live_server``), ONNX equality, Chromium,
floods and fuzzing. A test that asks for one of ``MODEL_FIXTURES`` is marked ``model`` here;
tests that load a model some other way carry the mark themselves. ``make test`` runs both:
the fast tier on two pytest-xdist workers (``-n 2``, pytest's default here: pyproject.toml),
the model tier in one process (``-n 0``).
"""

from __future__ import annotations

import os

# Before anything imports huggingface or tokenizers: never reach the network, no fork warnings.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import compileall
import shutil
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from advisor.config import Settings
from advisor.corpus import ChunkerSettings, load_corpus
from advisor.embeddings import Embedder, SentenceTransformerEmbedder
from advisor.index import BuildReport, Index, build_index, load_index
from advisor.retrieval import Retriever

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
FIXTURES = TESTS / "fixtures"
FIXTURE_CORPUS = FIXTURES / "corpus"
FIXTURE_CASES = FIXTURES / "cases.jsonl"
#: The answer model of the fixture corpus: ``FIXTURE_MODEL_COMMAND`` (on WordsEmbedder) writes it.
FIXTURE_MODEL = FIXTURES / "answer_model.json"
FIXTURE_MODEL_COMMAND = [
    "train-ranker", "tests/fixtures/cases.jsonl", "tests/fixtures/train_cases.jsonl",
    "--fit", "tests/fixtures/fit_cases.jsonl", "--offtopic", "tests/fixtures/offtopic.jsonl",
    "--cv", "0", "--kinds-from", "words", "--out", "tests/fixtures/answer_model.json",
]
# The shared data sits beside the repository (/work/shared next to /work/main, and the same in CI).
SHARED = REPO.parent / "shared"
SHARED_CORPUS = SHARED / "corpus" / "career_paths"
SITE_URL = Settings.model_fields["site_url"].default
#: Debian's Chromium, which the browser tests drive (Playwright cannot download browsers here).
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]

# Where PYTHONDONTWRITEBYTECODE is set (this machine sets it), Python caches no bytecode, and
# each of the two workers and the dozen `advisor` processes the tests start compiled the whole
# package again: about 1 s of CPU each. Compile it once here (a no-op while up to date); the
# files go to the __pycache__ folders git ignores, and an edited module is compiled afresh.
for _folder in (REPO / "src", FIXTURES):
    compileall.compile_dir(_folder, quiet=1)
# The same for pytest's rewritten test modules, which it caches only where Python may write
# bytecode: about 1 s of collection in each worker.
sys.dont_write_bytecode = False
sys.path.insert(0, str(FIXTURES))  # fakes.py, also imported by the processes tests start
from fakes import ScriptedGenerator, WordsEmbedder  # noqa: E402
from processes import HTTP, free_port, server_process  # noqa: E402

BuildFn = Callable[..., BuildReport]

# The real models, and what is built from them: a test needing any of these is a model test.
#: Fixtures that load a real model or start a heavy part: MiniLM, the SmolLM2 GGUF (in process
#: or behind llama-cpp-python's server).
MODEL_FIXTURES = frozenset({"embedder", "session_llm", "model_path", "llm", "server_url",
                            "counting_server"})


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``model`` every test that asks for a real model, every ``postgres`` test (a real
    server) and every ``slow`` test (they run the real models over the full corpus), so
    ``-m "not model"`` runs none of them."""
    for item in items:
        needs_model = MODEL_FIXTURES.intersection(getattr(item, "fixturenames", ()))
        if needs_model or item.get_closest_marker("slow") or item.get_closest_marker("postgres"):
            item.add_marker(pytest.mark.model)
    items.sort(key=lambda item: item.path.name not in LONG_FIRST)  # stable: else as collected


#: Modules of fast-tier tests that take seconds each (servers and builder processes of their
#: own): queued first, so that under xdist no worker still runs one of them at the end while
#: the other has nothing left (they came last: 3 s of one idle worker).
LONG_FIRST = frozenset({"test_reload.py", "test_index_locking.py", "test_index.py",
                        "test_cli_answers.py", "test_streaming.py"})


#: Test modules that xdist (make test: -n 2) hands to one worker as one unit; xdist starts the
#: units with the most tests first, then the rest test by test. Together because the first
#: of their tests in a process pays an import the others reuse: ranx (scipy.stats,
#: matplotlib, pandas) and numba's first typed list, 2-4 s; the openai client's types, 0.6 s.
SHARED_WORKER = {
    **dict.fromkeys(["test_beir.py", "test_cli.py", "test_eval_cli.py", "test_evaluation.py",
                     "test_score_lists.py", "test_significance.py"], "ranx"),
    "test_openai_compat.py": "openai",
}


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook: called only when -n is given
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """xdist's ``load`` scheduling (its default), test by test, but each group of
    ``SHARED_WORKER`` modules as one unit.

    Not ``--dist loadgroup`` with an ``xdist_group`` mark: on pytest 9.2 xdist 3.8's grouping
    silently does nothing (it renames node ids, which pytest no longer reads; xdist #1386).
    """
    if config.getvalue("dist") != "load":  # another --dist asked for: xdist's own
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SharedImportsTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0].rsplit("/", 1)[-1]
            return SHARED_WORKER.get(module, nodeid)

    return SharedImportsTogether(config, log)


_tier_started = time.perf_counter()
TIERS = {"not model": "fast tier", "not slow and not model": "fast tier",
         "model and not slow": "model tier", "model": "model tier", "not slow": "both tiers"}


def _tier(config: pytest.Config) -> str:
    markexpr = config.getoption("markexpr") or ""
    return TIERS.get(markexpr, f"-m {markexpr!r}")


#: Seconds spent in each tier's tests (setup, call and teardown) and the tests it ran.
_tier_seconds: dict[str, float] = {"fast tier": 0.0, "model tier": 0.0}
_tier_tests: dict[str, set[str]] = {"fast tier": set(), "model tier": set()}
#: The pytest-xdist workers whose reports came in (none when the session runs alone).
_workers: set[str] = set()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    tier = "model tier" if "model" in report.keywords else "fast tier"
    _tier_seconds[tier] += report.duration
    _tier_tests[tier].add(report.nodeid)
    node = getattr(report, "node", None)  # xdist: the worker that ran it
    if node is not None:
        _workers.add(str(node.gateway.id))


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """The tier that ran with its test count and wall time, then each tier's own time (the
    fast tier's is what ``-m "not model"`` costs, but for the session's start-up)."""
    stats = terminalreporter.stats
    ran = sum(len(stats.get(k, [])) for k in ("passed", "failed", "skipped", "xfailed",
                                                "xpassed"))
    on = f" on {len(_workers)} workers" if len(_workers) > 1 else ""
    terminalreporter.write_line(
        f"{_tier(config)}: {ran} tests in {time.perf_counter() - _tier_started:.1f} s{on}")
    summed = f" (summed over the {len(_workers)} workers)" if len(_workers) > 1 else ""
    for tier, seconds in _tier_seconds.items():
        if _tier_tests[tier]:
            terminalreporter.write_line(
                f"  {tier}: {len(_tier_tests[tier])} tests, {seconds:.1f} s in tests{summed}")


def default_chunker() -> ChunkerSettings:
    """The chunker the CLI uses when no ADVISOR_CHUNK_TOKENS is set."""
    return ChunkerSettings(max_tokens=Settings.model_fields["chunk_tokens"].default)


def wait_until(check: Callable[[], bool], seconds: float, what: str) -> None:
    """Poll ``check`` (HTTP errors count as not yet) until it holds or ``seconds`` pass."""
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{what} not within {seconds} s")


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """A real uvicorn server for ``app`` on 127.0.0.1 in a thread; stopped on leaving."""
    import uvicorn

    # Bound here and handed to uvicorn: no other xdist worker can take the port in between.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: HTTP.get(url + "/readyz", timeout=2).status_code == 200, 60,
                   "the test server")
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        listener.close()


@pytest.fixture(scope="session")
def serve_app() -> Callable[[Any], Any]:
    """``with serve_app(app) as url:`` a real uvicorn server on 127.0.0.1 for that block."""
    return serving


@pytest.fixture(scope="session")
def import_graph() -> Any:
    """bench/import_cycles.py: the imports of src/advisor read with ast, their cycles, and
    the package (``unit``) each module belongs to."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("import_cycles",
                                                  REPO / "bench" / "import_cycles.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["import_cycles"] = module  # where its dataclass finds its own module
    spec.loader.exec_module(module)
    return module


# ---------------------------------------------------------------- corpus and builds


@pytest.fixture(scope="session")
def chunker() -> ChunkerSettings:
    """The default chunker settings, the ones the fixture indexes are built with."""
    return default_chunker()


@pytest.fixture(scope="session")
def fixture_corpus() -> Path:
    return FIXTURE_CORPUS


@pytest.fixture(scope="session")
def shared_corpus() -> Path:
    if not SHARED_CORPUS.is_dir():
        pytest.skip(f"the shared corpus is absent: expected {SHARED_CORPUS} beside the repository")
    return SHARED_CORPUS


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A private copy of the fixture corpus, for tests that edit documents."""
    target = tmp_path / "corpus"
    shutil.copytree(FIXTURE_CORPUS, target)
    return target


@pytest.fixture(scope="session")
def build_fixture_index() -> BuildFn:
    """``build(index_dir, corpus=FIXTURE_CORPUS, *, embedder, ...)``: builds the index of a
    corpus folder into ``index_dir/default`` with the embedder given."""

    def build(
        index_dir: Path,
        corpus: Path = FIXTURE_CORPUS,
        *,
        embedder: Embedder,
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


# ---------------------------------------------------------------- fast tier: the fakes


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


@pytest.fixture
def command_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., dict[str, str]]:
    """``command_env(index_dir, corpus, copy=True, **extra)``: the ADVISOR_* environment the
    commands run in: none inherited, the corpus, the index (a private copy under ``tmp_path``
    unless ``copy`` is false), ``extra`` variables, and ``tmp_path`` as the working folder (so
    relative defaults such as indexes/ and var/ land there). Returns the variables set."""

    def make(index_dir: Path, corpus: Path, *, copy: bool = True, **extra: str) -> dict[str, str]:
        for key in list(os.environ):
            if key.startswith("ADVISOR_"):
                monkeypatch.delenv(key)
        if copy:
            target = tmp_path / "indexes"
            shutil.copytree(index_dir, target, symlinks=True)
            index_dir = target
        values = {"ADVISOR_CORPUS": str(corpus), "ADVISOR_INDEX_DIR": str(index_dir), **extra}
        for key, value in values.items():
            monkeypatch.setenv(key, value)
        monkeypatch.chdir(tmp_path)
        return values

    return make


@pytest.fixture(scope="session")
def words_embedder() -> WordsEmbedder:
    return WordsEmbedder()


@pytest.fixture(scope="session")
def words_index_dir(tmp_path_factory: pytest.TempPathFactory,
                    build_fixture_index: BuildFn, words_embedder: WordsEmbedder) -> Path:
    """A folder holding ``default``, the fixture corpus indexed with ``WordsEmbedder``
    (no model; built once). Do not change it: take ``words_index_copy``."""
    index_dir = tmp_path_factory.mktemp("words-index")
    build_fixture_index(index_dir, embedder=words_embedder)
    return index_dir


@pytest.fixture
def words_index_copy(words_index_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the words index folder, for tests that rebuild or break it."""
    target = tmp_path / "indexes"
    shutil.copytree(words_index_dir, target, symlinks=True)
    return target


@pytest.fixture(scope="session")
def words_index(words_index_dir: Path, words_embedder: WordsEmbedder) -> Index:
    return load_index(words_index_dir, "default", embedder=words_embedder,
                      chunker=default_chunker())


@pytest.fixture(scope="session")
def words_retriever(words_index: Index, words_embedder: WordsEmbedder) -> Retriever:
    return Retriever(index=words_index, embedder=words_embedder)


def fake_service(retriever: Retriever, generator: Any = None, **settings: Any) -> Any:
    """A chat service over ``retriever`` with ``generator`` (a fake, or None)."""
    from advisor.answer import ChatService
    from advisor.config import ChatSettings
    from advisor.llm import PromptLibrary

    # Word-count vectors sit lower than MiniLM's: an on-topic question reaches ~0.3.
    options = {"refusal_threshold": 0.2, "refusal_threshold_named": 0.1, **settings}
    return ChatService(retriever=retriever, prompts=PromptLibrary(), generator=generator,
                       settings=ChatSettings(**options), model=fixture_model())


def fixture_model() -> Any:
    """The answer model learned from the fixture cases on ``WordsEmbedder`` (the package's
    model learned MiniLM's cosines over the real corpus); read once."""
    from advisor.answer import load_model

    global _FIXTURE_MODEL
    if _FIXTURE_MODEL is None:
        _FIXTURE_MODEL = load_model(FIXTURE_MODEL)
    return _FIXTURE_MODEL


_FIXTURE_MODEL: Any = None


@pytest.fixture(scope="session")
def answer_model() -> Any:
    """The fixture corpus's answer model (``fixture_model``)."""
    return fixture_model()


@pytest.fixture
def make_service(words_retriever: Retriever) -> Callable[..., Any]:
    """A chat service over the fixture corpus on fakes: ``make_service(generator, **settings)``."""

    def make(generator: Any = None, **settings: Any) -> Any:
        return fake_service(words_retriever, generator, **settings)

    return make


# A sentence the support check keeps for the fixture's pay question, and none for the others.
SCRIPTED_REPLY = "An assistant keeper starts at 28,500 crowns a year."


@pytest.fixture(scope="session")
def fake_server(words_retriever: Retriever,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real uvicorn server on 127.0.0.1 over the words index and a scripted model: the
    HTTP contract without a model. Stopped at the end of the session."""
    from advisor.api import create_app

    service = fake_service(words_retriever, ScriptedGenerator(SCRIPTED_REPLY))
    log = tmp_path_factory.mktemp("fake-server") / "queries.sqlite"
    with serving(create_app(service, Settings(reload_s=0), query_log=log)) as url:
        yield url


@pytest.fixture
def fake_wiring(monkeypatch: pytest.MonkeyPatch, words_embedder: WordsEmbedder) -> WordsEmbedder:
    """In-process commands get ``WordsEmbedder`` wherever the settings would load MiniLM."""
    import advisor.answer.compose
    import advisor.wiring

    monkeypatch.setattr(advisor.wiring, "embedder_for", lambda settings: words_embedder)
    # ... and the answer model learned on that embedder where the package's would load.
    monkeypatch.setattr(advisor.answer.compose, "load_model", lambda path=None: fixture_model())
    return words_embedder


@pytest.fixture(scope="session")
def fake_cli() -> list[str]:
    """``advisor`` in a process of its own, on WordsEmbedder: ``[*fake_cli, "search", "x"]``
    (tests/fixtures/fake_cli.py; ``FAKE_EMBED_DELAY`` in its environment slows builds)."""
    return [sys.executable, str(FIXTURES / "fake_cli.py")]


# ---------------------------------------------------------------- model tier: the real parts


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    """The real packaged all-MiniLM-L6-v2, loaded once."""
    return SentenceTransformerEmbedder.from_setting("minilm")


@pytest.fixture(scope="session")
def fixture_index_dir(
    tmp_path_factory: pytest.TempPathFactory, build_fixture_index: BuildFn,
    embedder: SentenceTransformerEmbedder,
) -> Path:
    """A folder holding ``default``, the fixture corpus indexed with the real MiniLM. Do not
    change it: take ``index_copy``."""
    index_dir = tmp_path_factory.mktemp("fixture-index")
    build_fixture_index(index_dir, embedder=embedder)
    return index_dir


@pytest.fixture
def index_copy(fixture_index_dir: Path, tmp_path: Path) -> Path:
    """A private copy of the MiniLM fixture index folder, for tests that rebuild or break it."""
    target = tmp_path / "indexes"
    shutil.copytree(fixture_index_dir, target, symlinks=True)
    return target


@pytest.fixture(scope="session")
def fixture_index(fixture_index_dir: Path, embedder: SentenceTransformerEmbedder) -> Index:
    return load_index(fixture_index_dir, "default", embedder=embedder, chunker=default_chunker())


@pytest.fixture(scope="session")
def retriever(fixture_index: Index, embedder: SentenceTransformerEmbedder) -> Retriever:
    return Retriever(index=fixture_index, embedder=embedder)


@pytest.fixture(scope="session")
def session_llm() -> Any:
    """The real SmolLM2 GGUF, loaded once for every server test."""
    from advisor.llm import LlamaCppGenerator, default_model_path

    return LlamaCppGenerator(model_path=default_model_path(), context_size=2048, queue_size=4)


@pytest.fixture(scope="session")
def fixture_service(fixture_index: Index, embedder: SentenceTransformerEmbedder,
                    session_llm: Any) -> Any:
    """A chat service over the MiniLM fixture index with the real model (short answers)."""
    from advisor.answer import ChatService
    from advisor.config import ChatSettings, WriterSettings
    from advisor.llm import PromptLibrary

    return ChatService(retriever=Retriever(index=fixture_index, embedder=embedder),
                       prompts=PromptLibrary(), generator=session_llm,
                       settings=ChatSettings(writer=WriterSettings(max_tokens=32)))


@pytest.fixture(scope="session")
def live_server(fixture_service: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real uvicorn server on 127.0.0.1 serving the real stack; stopped at the end."""
    from advisor.api import create_app

    log = tmp_path_factory.mktemp("server") / "queries.sqlite"
    with serving(create_app(fixture_service, query_log=log)) as url:
        yield url


@pytest.fixture(scope="session")
def extractive_server(
    fixture_index_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """`advisor serve` in its own process on 127.0.0.1 over a copy of the MiniLM fixture index,
    extractive (no model): for floods and fuzzing, which need a server that is not sharing
    this process's CPU time and GIL. Stopped at the end of the session."""
    root = tmp_path_factory.mktemp("extractive-server")
    index_dir = root / "indexes"
    shutil.copytree(fixture_index_dir, index_dir, symlinks=True)
    port = free_port()
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
    command = [sys.executable, "-m", "advisor.cli", "serve", "--host", "127.0.0.1",
               "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    with server_process(command, ready_url=url + "/readyz", log_path=root / "server.log",
                        seconds=240, what="the extractive server", env=env, cwd=root):
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium (Debian's), one per test module; skipped where it is not installed."""
    if not Path(CHROMIUM).exists():
        pytest.skip("no Debian chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


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
