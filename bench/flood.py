"""A search flood against a local advisor server (loopback only; bounded in time and count).

    .venv/bin/python bench/flood.py --url http://127.0.0.1:PORT [--clients 300] [--seconds 30]

``--clients`` concurrent clients send POST /api/search back to back for ``--seconds`` (each
answer, 503 included, is followed at once by the next request: no client backs off). Meanwhile
a prober in the parent process asks /readyz every 20 ms (the flood runs in a child process,
so the probes do not wait behind the flood's own event loop). Prints one JSON object: requests sent,
answers by status, 5xx other than 503, connection errors, /readyz p50/p95/max during the flood,
and whether a search answered normally right after.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from collections import Counter
from typing import Any
from urllib.parse import urlparse

import httpx

QUERIES = [
    "entry-level salary",
    "which skills do I need",
    "how do I become one",
    "what does the job involve day to day",
    "certifications that help",
    "career progression after five years",
]
MAX_REQUESTS = 2_000_000  # a bound on the whole flood, whatever the speed


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(p / 100 * len(values) + 0.5) - 1))]


async def _flood(url: str, clients: int, seconds: float) -> dict[str, Any]:
    statuses: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    samples: list[str] = []
    stop = time.monotonic() + seconds
    # Idle connections expire before the server's 5 s keep-alive ends: at exactly 5 s the two race
    # and a request goes out on a connection the server is closing (a ReadError, not an answer).
    limits = httpx.Limits(
        max_connections=clients, max_keepalive_connections=clients, keepalive_expiry=2.0
    )
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:

        async def one(n: int) -> None:
            i = n
            while time.monotonic() < stop and sum(statuses.values()) < MAX_REQUESTS:
                body = {"query": f"{QUERIES[i % len(QUERIES)]} {n}", "k": 5}
                i += 1
                try:
                    reply = await client.post("/api/search", json=body)
                    statuses[str(reply.status_code)] += 1
                except httpx.HTTPError as exc:
                    errors[type(exc).__name__] += 1
                    if len(samples) < 5:
                        samples.append(f"{type(exc).__name__}: {exc!r} {exc.__cause__!r}")

        await asyncio.gather(*(one(n) for n in range(clients)))
    return {"statuses": dict(statuses), "errors": dict(errors), "samples": samples}


def flood(url: str, *, clients: int = 300, seconds: float = 30.0) -> dict[str, Any]:
    """Run the flood in a child process while this one probes /readyz; the figures."""
    host = urlparse(url).hostname or ""
    if not (host == "localhost" or host.startswith("127.") or host == "::1"):
        raise SystemExit(f"refusing to flood {host}: loopback addresses only")
    child = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--url",
            url,
            "--clients",
            str(clients),
            "--seconds",
            str(seconds),
            "--flood-only",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    probes: list[float] = []
    probe_errors = 0
    not_ready = 0
    with httpx.Client(base_url=url, timeout=10) as client:
        time.sleep(min(1.0, seconds / 10))  # let the flood build up first
        stop = time.monotonic() + seconds * 0.9
        while time.monotonic() < stop and child.poll() is None:
            started = time.perf_counter()
            try:
                reply = client.get("/readyz")
                probes.append((time.perf_counter() - started) * 1000)
                not_ready += reply.status_code != 200
            except httpx.HTTPError:
                probe_errors += 1
            time.sleep(0.02)
        out, _ = child.communicate(timeout=seconds + 120)
        counts = json.loads(out)
        time.sleep(0.5)  # the queue drains: the next search is "right after"
        after = client.post("/api/search", json={"query": "entry-level salary", "k": 3})
        after_ok = after.status_code == 200 and bool(after.json().get("results"))
    statuses = counts["statuses"]
    sent = sum(statuses.values()) + sum(counts["errors"].values())
    server_errors = sum(n for s, n in statuses.items() if s.startswith("5") and s != "503")
    return {
        "clients": clients,
        "seconds": seconds,
        "requests": sent,
        "statuses": statuses,
        "503": statuses.get("503", 0),
        "5xx_other_than_503": server_errors,
        "connection_errors": counts["errors"],
        "connection_error_samples": counts["samples"],
        "readyz": {
            "probes": len(probes),
            "p50_ms": round(pct(probes, 50), 1) if probes else None,
            "p95_ms": round(pct(probes, 95), 1) if probes else None,
            "max_ms": round(max(probes), 1) if probes else None,
            "errors": probe_errors,
            "not_ready": not_ready,
        },
        "search_after": {"status": after.status_code, "ok": after_ok},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="a server on 127.0.0.1")
    parser.add_argument("--clients", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--flood-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.flood_only:  # the child process: only the flood, its counts as JSON
        print(json.dumps(asyncio.run(_flood(args.url, args.clients, args.seconds))))
        return
    print(json.dumps(flood(args.url, clients=args.clients, seconds=args.seconds), indent=2))


if __name__ == "__main__":
    main()
