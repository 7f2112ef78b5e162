"""Hot index reload: a running server swaps in rebuilt indexes under a search load, refuses a
broken one, and reloads on SIGHUP. On the words index (WordsEmbedder), in this process and as
``advisor serve`` of its own."""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from processes import HTTP, free_port, server_process

from advisor.answer.chat import ChatService
from advisor.api.app import create_app
from advisor.config import Settings
from advisor.embeddings.batcher import BatchingEmbedder
from advisor.index import load_index
from advisor.llm.prompts import PromptLibrary
from advisor.retrieval.retriever import Retriever

NEW_CAREER = """---
title: "{n}. {name}"
description: "Career path for a {name}"
permalink: /careers/{slug}/
---
# {n}. {name}

## Role Definition & Responsibilities:
* **Definition:** A {name} trains {bird} to fly from the glove and hunt over open moorland.
* **Daily Work:** Weighing each {bird} every morning and flying it before noon.

## Entry-Level Positions:
* **Expected Initial Salary Ranges:** An apprentice {name} starts at {pay} {coin} a year.
"""
ROUNDS = [
    ("Falconer", "peregrine falcons", 7_300, "owl-crowns"),
    ("Austringer", "goshawks", 8_100, "heron-marks"),
    ("Eagle Handler", "golden eagles", 9_400, "kite-pennies"),
]


def write_career(corpus: Path, n: int) -> tuple[str, str]:
    name, bird, pay, coin = ROUNDS[n]
    number = 5 + n
    slug = f"{number}-{name.replace(' ', '_')}"
    text = NEW_CAREER.format(n=number, name=name, slug=slug, bird=bird, pay=f"{pay:,}", coin=coin)
    (corpus / f"{slug}.md").write_text(text, encoding="utf-8")
    return slug, coin


@pytest.fixture
def served(words_index_copy: Path, words_embedder: Any, chunker: Any, tmp_path: Path,
           serve_app: Any, answer_model: Any) -> Iterator[str]:
    """A real server over a private copy of the words index, looking for a new build every
    0.2 s."""
    index = load_index(words_index_copy, "default", embedder=words_embedder, chunker=chunker)
    batching = BatchingEmbedder(words_embedder)
    service = ChatService(retriever=Retriever(index=index, embedder=batching),
                          prompts=PromptLibrary(), generator=None, model=answer_model)
    settings = Settings(reload_s=0.2, mode="extractive")
    with serve_app(create_app(service, settings, query_log=tmp_path / "q.sqlite")) as url:
        yield url


def wait_for(check: Callable[[], bool], seconds: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        try:
            if check():
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"not within {seconds} s")


def build_id(url: str) -> str:
    index: str = HTTP.get(url + "/readyz", timeout=5).json()["index"]
    return index


def metric(url: str, sample: str) -> float:
    for line in HTTP.get(url + "/metrics").text.splitlines():
        if line.startswith(sample + " "):
            return float(line.split()[-1])
    return 0.0


def test_three_rebuilds_under_a_search_load_swap_in_without_a_failed_request(
    served: str, words_index_copy: Path, corpus_copy: Path, build_fixture_index: Any,
    words_embedder: Any,
) -> None:
    stop = threading.Event()
    sent: list[int] = []
    failed: list[str] = []
    queries = ["varroa mites", "lantern lens", "annealing glass", "map projection", "salary"]

    def load(i: int) -> None:
        with httpx.Client(timeout=30) as client:
            n = 0
            while not stop.is_set():
                try:
                    reply = client.post(served + "/api/search",
                                        json={"query": queries[(i + n) % len(queries)], "k": 3})
                    if reply.status_code != 200 or not reply.json()["results"]:
                        failed.append(f"{reply.status_code} {reply.text[:200]}")
                except httpx.HTTPError as exc:
                    failed.append(repr(exc))
                sent.append(1)
                n += 1

    clients = [threading.Thread(target=load, args=(i,)) for i in range(2)]
    for client in clients:
        client.start()
    swaps: list[float] = []
    try:
        for n in range(len(ROUNDS)):
            before = build_id(served)
            slug, coin = write_career(corpus_copy, n)
            built = build_fixture_index(words_index_copy, corpus_copy,
                                        embedder=words_embedder)
            assert not built.up_to_date
            swaps.append(wait_for(lambda b=before: build_id(served) != b, 15))
            # Right after the swap the new document answers.
            found = HTTP.post(served + "/api/search",
                              json={"query": f"apprentice salary in {coin}", "k": 1}).json()
            assert found["results"][0]["doc_id"] == slug, found
            careers = {c["id"] for c in HTTP.get(served + "/api/careers").json()}
            assert slug in careers
    finally:
        stop.set()
        for client in clients:
            client.join(timeout=30)
    assert failed == [], failed[:5]
    assert len(sent) > 30
    assert metric(served, 'advisor_index_reloads_total{outcome="swapped"}') == 3
    print(f"\n3 swaps under a search load: {len(sent)} searches, {len(failed)} failed, "
          f"swap seen after {', '.join(f'{s:.2f}' for s in swaps)} s")


def test_a_broken_build_is_refused_and_the_old_index_keeps_serving(
    served: str, words_index_copy: Path, caplog: pytest.LogCaptureFixture
) -> None:
    index_copy = words_index_copy
    link = index_copy / "default"
    serving = build_id(served)
    broken = index_copy / ".default-broken"
    shutil.copytree(link.resolve(), broken)
    (broken / "sentences.faiss").unlink()
    tmp = index_copy / ".default.tmp-link"
    tmp.symlink_to(broken.name)
    os.replace(tmp, link)  # what a build that lost a file would leave behind
    wait_for(lambda: metric(served, 'advisor_index_reloads_total{outcome="refused"}') == 1, 15)
    assert build_id(served) == serving
    found = HTTP.post(served + "/api/search", json={"query": "varroa mites", "k": 1}).json()
    assert found["results"][0]["doc_id"] == "2-Beekeeper"
    assert "refused the new index default-broken" in caplog.text
    assert "sentences.faiss" in caplog.text
    time.sleep(0.6)  # polled again: refused once, not retried on every look
    assert metric(served, 'advisor_index_reloads_total{outcome="refused"}') == 1


def test_sighup_reloads_a_running_advisor_serve(
    words_index_copy: Path, corpus_copy: Path, build_fixture_index: Any, tmp_path: Path,
    words_embedder: Any, fake_cli: list[str],
) -> None:
    index_copy = words_index_copy
    port = free_port()
    env = {**os.environ, "ADVISOR_INDEX_DIR": str(index_copy), "ADVISOR_CORPUS": str(corpus_copy),
           "ADVISOR_MODE": "extractive", "ADVISOR_RELOAD_S": "0", "ADVISOR_QUERY_LOG": "off"}
    command = [*fake_cli, "serve", "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    with server_process(command, ready_url=url + "/readyz", log_path=tmp_path / "serve.log",
                        seconds=120, what="advisor serve", env=env) as process:
        before = build_id(url)
        slug, coin = write_career(corpus_copy, 0)
        build_fixture_index(index_copy, corpus_copy, embedder=words_embedder)
        time.sleep(0.5)
        assert build_id(url) == before  # ADVISOR_RELOAD_S=0: no polling
        process.send_signal(signal.SIGHUP)
        wait_for(lambda: build_id(url) != before, 30)
        found = HTTP.post(url + "/api/search",
                          json={"query": f"apprentice salary in {coin}", "k": 1}).json()
        assert found["results"][0]["doc_id"] == slug


def test_a_reopened_service_keeps_its_parts_and_answer_model(
        words_index_copy: Path, words_embedder: Any, chunker: Any, answer_model: Any) -> None:
    from advisor.wiring import reopen

    index = load_index(words_index_copy, "default", embedder=words_embedder, chunker=chunker)
    service = ChatService(retriever=Retriever(index=index, embedder=words_embedder),
                          prompts=PromptLibrary(), generator=None, model=answer_model)
    fresh = reopen(service, words_index_copy / "default", chunker=chunker)
    assert fresh.retriever is not service.retriever
    assert fresh.model is answer_model  # not the package's model in place of the one served
    assert fresh.prompts is service.prompts
    assert fresh.composer.settings == service.composer.settings
