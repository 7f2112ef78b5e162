"""HTTP load on a local advisor server (loopback only; bounded in count and time).

    python bench/load_test.py [--url http://127.0.0.1:PORT] [--chat-streams 16] [--seconds 60]
                              [--search-clients 4] [--compare 0,600] [--json]

Without --url it starts `advisor serve` (this interpreter's advisor package, the index under
indexes/) on a free 127.0.0.1 port, once per configuration, and stops it at the end:

1. /api/search alone: 16 concurrent clients, --search-requests each (0 skips it).
2. --chat-streams concurrent chat streams for --seconds, each asking one question after
   another (server-sent events), while --search-clients search and one probe polls /healthz:
   first-token p50/p95, answers per minute, the share answered extractively because the
   model was busy, errors (503s counted apart), search requests/s and p95.
3. Step 2 again with ADVISOR_MAX_WAIT_S set to each --compare value: 0 never waits for the
   model, a large value always does (the behaviour before the busy fallback).

--json prints one JSON object: the keys of step 2 for the server's default settings at the
top level, step 1 under "search_alone", and each comparison under "compare".
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from typing import Any
from urllib.parse import urlparse

import httpx
from httpx_sse import EventSource

QUESTIONS = [
    "What does a junior data engineer earn in the US?",
    "Which skills does a DevOps engineer need?",
    "How do I become a mobile developer?",
    "What does a business analyst do day to day?",
    "I'm a software tester, how can I move into QA engineering?",
    "What certifications help a cloud engineer?",
    "What do entry-level web developers do?",
    "Which tools should a technical writer learn?",
]
SHARED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared")
FALLBACK = ["salary", "key skills", "portfolio project ideas", "certifications"]
MAX_STREAMS = 64
MAX_SECONDS = 600.0


def search_queries() -> list[str]:
    """Distinct real questions (the dev set), so no cache of any kind flatters the figures."""
    path = os.path.join(SHARED, "bench", "dev_questions.jsonl")
    if not os.path.exists(path):
        return FALLBACK
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line)["question"] for line in fh if line.strip()]


def pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(p / 100 * len(values) + 0.5) - 1))]


def start_server(env_extra: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "ADVISOR_QUERY_LOG": f"/tmp/advisor-load-{port}.sqlite", **env_extra}
    command = [sys.executable, "-m", "advisor.cli", "serve", "--host", "127.0.0.1",
               "--port", str(port)]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"advisor serve exited with {proc.returncode}")
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.kill()
    raise SystemExit("the server did not become ready in 300 s")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=20)


async def search_alone(url: str, clients: int, per_client: int) -> dict[str, Any]:
    """``clients`` concurrent searchers as asyncio tasks: one light process, so the load
    generator does not take the CPU the server needs."""
    queries = search_queries()
    latencies: list[float] = []
    errors = 0

    async def client_task(client: httpx.AsyncClient, i: int) -> None:
        nonlocal errors
        for n in range(per_client):
            query = queries[(i * per_client + n) % len(queries)]
            started = time.perf_counter()
            reply = await client.post(url + "/api/search", json={"query": query, "k": 5})
            latencies.append((time.perf_counter() - started) * 1000)
            errors += reply.status_code != 200

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(*(client_task(client, i) for i in range(clients)))
        elapsed = time.perf_counter() - started
    return {
        "clients": clients,
        "requests": len(latencies),
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(pct(latencies, 95), 1),
        "errors": errors,
    }


async def mixed_load(url: str, streams: int, seconds: float, searchers: int) -> dict[str, Any]:
    """Chat streams, searches and a /healthz probe side by side for ``seconds``."""
    stop = time.monotonic() + seconds
    firsts: list[float] = []
    firsts_by_mode: dict[str, list[float]] = {}
    modes: dict[str, int] = {}
    errors = rejected = 0
    error_kinds: dict[str, int] = {}
    search_ms: list[float] = []
    search_errors = 0
    health_ms: list[float] = []
    queries = search_queries()

    def failed(kind: str) -> None:
        nonlocal errors
        errors += 1
        error_kinds[kind] = error_kinds.get(kind, 0) + 1

    async def streamer(client: httpx.AsyncClient, i: int) -> None:
        nonlocal rejected
        n = 0
        while time.monotonic() < stop:
            body = {"question": QUESTIONS[(i + n) % len(QUESTIONS)], "stream": True}
            n += 1
            started = time.perf_counter()
            first: float | None = None
            done: dict[str, Any] | None = None
            try:
                async with client.stream("POST", url + "/api/chat", json=body) as reply:
                    if reply.status_code == 503:
                        rejected += 1
                        await reply.aread()
                        wait = float(reply.headers.get("retry-after", "1"))
                        await asyncio.sleep(min(wait, max(0.0, stop - time.monotonic())))
                        continue
                    if reply.status_code != 200:
                        failed(f"HTTP {reply.status_code}")
                        continue
                    async for sse in EventSource(reply).aiter_sse():
                        if sse.event == "token" and first is None:
                            first = (time.perf_counter() - started) * 1000
                        elif sse.event == "done":
                            done = json.loads(sse.data)
                        elif sse.event == "error":
                            message = str(json.loads(sse.data).get("message", ""))
                            failed(f"error event: {message[:80]}")
            except httpx.HTTPError as exc:
                failed(type(exc).__name__)
                continue
            if done is None:
                failed("no done event")
                continue
            mode = str(done.get("mode"))
            modes[mode] = modes.get(mode, 0) + 1
            if first is not None:
                firsts.append(first)
                firsts_by_mode.setdefault(mode, []).append(first)

    async def searcher(client: httpx.AsyncClient, i: int) -> None:
        nonlocal search_errors
        n = 0
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                reply = await client.post(url + "/api/search",
                                          json={"query": queries[(i * 97 + n) % len(queries)]})
                search_errors += reply.status_code != 200
            except httpx.HTTPError:
                search_errors += 1
            search_ms.append((time.perf_counter() - started) * 1000)
            n += 1

    async def prober(client: httpx.AsyncClient) -> None:
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                await client.get(url + "/healthz")
                health_ms.append((time.perf_counter() - started) * 1000)
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)

    connections = streams + searchers + 1
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(timeout=180, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(
            *(streamer(client, i) for i in range(streams)),
            *(searcher(client, i) for i in range(searchers)),
            prober(client),
        )
        elapsed = time.perf_counter() - started
    answers = sum(modes.values())
    return {
        "chat_streams": streams,
        "seconds": round(elapsed, 1),
        "chat_first_token_ms_p50": round(statistics.median(firsts), 1) if firsts else None,
        "chat_first_token_ms_p95": round(pct(firsts, 95), 1) if firsts else None,
        "chat_answers": answers,
        "chat_answers_per_min": round(answers / elapsed * 60, 1),
        "chat_busy_extractive_share": round(modes.get("extractive_busy", 0) / answers, 3)
        if answers
        else 0.0,
        "chat_modes": modes,
        "chat_first_token_ms_by_mode": {
            mode: {"p50": round(statistics.median(v), 1), "p95": round(pct(v, 95), 1)}
            for mode, v in sorted(firsts_by_mode.items())
        },
        "chat_errors": errors,
        "chat_error_kinds": error_kinds,
        "chat_rejected_503": rejected,
        "search_clients": searchers,
        "search_requests": len(search_ms),
        "search_rps": round(len(search_ms) / elapsed, 1),
        "search_p95_ms": round(pct(search_ms, 95), 1),
        "search_errors": search_errors,
        "healthz_p95_ms": round(pct(health_ms, 95), 1),
    }


def warm_up(url: str) -> None:
    """One generative answer first, so the server has measured a generation (as it would
    have after its first student) and the figures are the steady state."""
    body = {"question": QUESTIONS[0], "mode": "generative"}
    httpx.post(url + "/api/chat", json=body, timeout=300)


def run_config(args: argparse.Namespace, env: dict[str, str], *, alone: bool) -> dict[str, Any]:
    proc, url = (None, args.url) if args.url else start_server(env)
    try:
        warm_up(url)
        result: dict[str, Any] = {"max_wait_s": env.get("ADVISOR_MAX_WAIT_S", "default")}
        if alone and args.search_requests:
            result["search_alone"] = asyncio.run(search_alone(url, 16, args.search_requests))
        result.update(
            asyncio.run(mixed_load(url, args.chat_streams, args.seconds, args.search_clients))
        )
        return result
    finally:
        if proc is not None:
            stop_server(proc)


def show(results: list[dict[str, Any]]) -> None:
    alone = results[0].get("search_alone")
    if alone:
        print(f"/api/search alone, {alone['clients']} clients, {alone['requests']} requests: "
              f"{alone['rps']} req/s, p50 {alone['p50_ms']} ms, p95 {alone['p95_ms']} ms, "
              f"errors {alone['errors']}")
    rows = [
        ("ADVISOR_MAX_WAIT_S", "max_wait_s"),
        ("first token p50 ms", "chat_first_token_ms_p50"),
        ("first token p95 ms", "chat_first_token_ms_p95"),
        ("answers per minute", "chat_answers_per_min"),
        ("extractive (busy) share", "chat_busy_extractive_share"),
        ("answers by mode", "chat_modes"),
        ("errors", "chat_errors"),
        ("503 (queue full)", "chat_rejected_503"),
        ("search req/s", "search_rps"),
        ("search p95 ms", "search_p95_ms"),
        ("search errors", "search_errors"),
        ("/healthz p95 ms", "healthz_p95_ms"),
    ]
    first = results[0]
    print(f"{first['chat_streams']} chat streams and {first['search_clients']} search clients "
          f"for {first['seconds']} s:")
    for label, key in rows:
        cells = "".join(f"{str(r.get(key)):>28}" for r in results)
        print(f"  {label:<24}{cells}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running server (loopback only; no comparison)")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--chat-streams", type=int, default=16)
    parser.add_argument("--search-clients", type=int, default=4,
                        help="searchers during the chat load")
    parser.add_argument("--search-requests", type=int, default=40,
                        help="per client in the search-alone step (0 skips it)")
    parser.add_argument("--compare", default="0,600",
                        help="ADVISOR_MAX_WAIT_S values to run again ('' for none)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if not 1 <= args.chat_streams <= MAX_STREAMS or not 0 <= args.search_clients <= MAX_STREAMS:
        raise SystemExit(f"--chat-streams 1..{MAX_STREAMS}, --search-clients 0..{MAX_STREAMS}")
    if not 0 < args.seconds <= MAX_SECONDS:
        raise SystemExit(f"--seconds must be in (0, {MAX_SECONDS:.0f}]")
    if args.url:
        host = urlparse(args.url).hostname or ""
        if not (host == "localhost" or host.startswith("127.") or host == "::1"):
            raise SystemExit("load tests only target this machine's loopback addresses")
    results = [run_config(args, {}, alone=True)]
    if not args.url:
        for value in filter(None, (v.strip() for v in args.compare.split(","))):
            results.append(run_config(args, {"ADVISOR_MAX_WAIT_S": value}, alone=False))
    if args.json:
        out = dict(results[0])
        out["compare"] = {f"max_wait_s={r['max_wait_s']}": r for r in results[1:]}
        print(json.dumps(out))
    else:
        show(results)


if __name__ == "__main__":
    main()
