"""HTTP load on a local advisor server (loopback only; bounded in count and time).

    .venv/bin/python bench/load_test.py [--url http://127.0.0.1:PORT] [--seconds 60]

Without --url it starts `advisor serve` on a free 127.0.0.1 port (the index under indexes/)
and stops it at the end. Prints, from one run: /api/search requests/s and p50/p95 at 16
concurrent clients; 8 concurrent chat streams for --seconds with their error count (503s
counted apart); /healthz p50/p95 while the model is generating.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from urllib.parse import urlparse

import httpx

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


def search_queries() -> list[str]:
    """Distinct real questions (the dev set), so no cache of any kind flatters the figures."""
    path = os.path.join(SHARED, "bench", "dev_questions.jsonl")
    if not os.path.exists(path):
        return FALLBACK
    import json

    with open(path, encoding="utf-8") as fh:
        return [json.loads(line)["question"] for line in fh if line.strip()]


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(p / 100 * len(values) + 0.5) - 1))]


def start_server() -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    advisor = os.path.join(os.path.dirname(sys.executable), "advisor")
    env = {**os.environ, "ADVISOR_QUERY_LOG": f"/tmp/advisor-load-{port}.sqlite"}
    proc = subprocess.Popen([advisor, "serve", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.kill()
    raise SystemExit("the server did not become ready in 300 s")


def search_load(url: str, clients: int, per_client: int) -> None:
    """16 concurrent clients as asyncio tasks: one light process, so the load generator does
    not take the CPU the server needs."""
    import asyncio

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

    async def run() -> float:
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        async with httpx.AsyncClient(timeout=30, limits=limits) as client:
            started = time.perf_counter()
            await asyncio.gather(*(client_task(client, i) for i in range(clients)))
            return time.perf_counter() - started

    elapsed = asyncio.run(run())
    print(f"/api/search, {clients} concurrent clients, {len(latencies)} requests: "
          f"{len(latencies) / elapsed:.1f} req/s, p50 {statistics.median(latencies):.1f} ms, "
          f"p95 {pct(latencies, 95):.1f} ms, errors {errors} "
          f"(targets: >= 50 req/s, p95 <= 150 ms)")


def chat_load(url: str, streams: int, seconds: float) -> None:
    stop = time.monotonic() + seconds
    done = errors = busy = 0
    first_tokens: list[float] = []
    health: list[float] = []
    lock = threading.Lock()

    def streamer(i: int) -> None:
        nonlocal done, errors, busy
        n = 0
        with httpx.Client(timeout=120) as client:
            while time.monotonic() < stop:
                body = {"question": QUESTIONS[(i + n) % len(QUESTIONS)], "stream": True}
                n += 1
                started = time.perf_counter()
                first = None
                try:
                    with client.stream("POST", url + "/api/chat", json=body) as reply:
                        if reply.status_code == 503:
                            with lock:
                                busy += 1
                            time.sleep(float(reply.headers.get("retry-after", "1")))
                            continue
                        ok = reply.status_code == 200
                        finished = False
                        for line in reply.iter_lines():
                            if line.startswith("event: token") and first is None:
                                first = (time.perf_counter() - started) * 1000
                            if line.startswith("event: done"):
                                finished = True
                            if line.startswith("event: error"):
                                ok = False
                    with lock:
                        if ok and finished:
                            done += 1
                            if first is not None:
                                first_tokens.append(first)
                        else:
                            errors += 1
                except httpx.HTTPError:
                    with lock:
                        errors += 1

    def prober() -> None:
        with httpx.Client(timeout=10) as client:
            while time.monotonic() < stop:
                started = time.perf_counter()
                client.get(url + "/healthz")
                health.append((time.perf_counter() - started) * 1000)
                time.sleep(0.1)

    threads = [threading.Thread(target=streamer, args=(i,)) for i in range(streams)]
    threads.append(threading.Thread(target=prober))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(f"{streams} concurrent chat streams for {seconds:.0f} s: {done} answers completed, "
          f"{errors} errors, {busy} deliberate 503s; first token p50 "
          f"{statistics.median(first_tokens) if first_tokens else 0:.0f} ms under this load")
    print(f"/healthz during generation: {len(health)} probes, p50 "
          f"{statistics.median(health):.1f} ms, p95 {pct(health, 95):.1f} ms (target <= 50 ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", help="a running server (loopback only)")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--search-requests", type=int, default=40, help="per client")
    args = parser.parse_args()
    proc = None
    url = args.url
    if url:
        host = urlparse(url).hostname or ""
        if not (host == "localhost" or host.startswith("127.") or host == "::1"):
            raise SystemExit("load tests only target this machine's loopback addresses")
    else:
        proc, url = start_server()
    try:
        search_load(url, clients=16, per_client=args.search_requests)
        chat_load(url, streams=8, seconds=args.seconds)
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    main()
