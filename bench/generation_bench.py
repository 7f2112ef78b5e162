"""Generation speed through LlamaCppGenerator.stream next to raw llama-cpp-python.

Both sides use the same loaded ``Llama`` object, the same prompt, sampling settings and
``max_tokens``; runs alternate so that a neighbour's load on the CPU hits both alike. Tokens
are counted by the model's tokenizer over the streamed text, the same way for both. The ratio
compares the best run of each side (least disturbed by other processes on a shared CPU);
medians are printed beside it. The KV cache is reset before every run, so time to first token
includes evaluating the whole prompt on both sides.

    .venv/bin/python bench/generation_bench.py [--model PATH] [--runs N] [--max-tokens N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from advisor.llm import LlamaCppGenerator, default_model_path

MESSAGES = [
    {"role": "system", "content": "You are a careers advisor. Answer in plain sentences."},
    {"role": "user", "content": "What does a software engineer do, and which skills help?"},
]


@dataclass
class Run:
    tokens: int
    first: float  # seconds to the first piece
    total: float  # seconds to the last piece
    text: str

    @property
    def rate(self) -> float:
        """Tokens per second over the whole call, prompt included."""
        return self.tokens / self.total

    @property
    def decode_rate(self) -> float:
        """Tokens per second after the first one (generation only)."""
        return (self.tokens - 1) / (self.total - self.first) if self.total > self.first else 0.0


def measure(pieces: Callable[[], Iterator[str]], count: Callable[[str], int]) -> Run:
    """Time one stream: first piece, last piece, and the tokens of the whole text."""
    start = time.perf_counter()
    first = 0.0
    text: list[str] = []
    for piece in pieces():
        if not text:
            first = time.perf_counter() - start
        text.append(piece)
    total = time.perf_counter() - start
    joined = "".join(text)
    return Run(tokens=count(joined), first=first, total=total, text=joined)


def raw_stream(llama: Any, options: dict[str, Any], max_tokens: int) -> Iterator[str]:
    """Pieces straight from ``Llama.create_chat_completion(stream=True)``."""
    chunks = llama.create_chat_completion(
        messages=MESSAGES, max_tokens=max_tokens, stream=True, **options
    )
    for chunk in chunks:
        piece = chunk["choices"][0]["delta"].get("content")
        if piece:
            yield piece


def summary(name: str, runs: list[Run]) -> str:
    """One line: best and median rate, decode rate, time to first token, tokens."""
    best = max(runs, key=lambda r: r.rate)
    return (
        f"{name:<22} best {best.rate:6.1f} tok/s"
        f" | median {statistics.median(r.rate for r in runs):6.1f} tok/s"
        f" | decode {statistics.median(r.decode_rate for r in runs):6.1f} tok/s"
        f" | first token {statistics.median(r.first for r in runs) * 1000:5.0f} ms"
        f" (best {min(r.first for r in runs) * 1000:.0f} ms)"
        f" | tokens {statistics.median(r.tokens for r in runs):.0f}"
    )


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print one line per side and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="GGUF file (default SmolLM2)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per side")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)

    generator = LlamaCppGenerator(
        model_path=args.model or default_model_path(), threads=args.threads
    )
    llama, options, max_tokens = generator.llama, generator.options, args.max_tokens

    def ours() -> Iterator[str]:
        return generator.stream(MESSAGES, max_tokens=max_tokens)

    def raw() -> Iterator[str]:
        return raw_stream(llama, options, max_tokens)

    load = os.getloadavg()[0]
    measure(raw, generator.count_tokens)  # warm-up: caches, page-in of the weights
    runs: dict[str, list[Run]] = {"raw llama-cpp-python": [], "LlamaCppGenerator": []}
    for _ in range(args.runs):
        llama.reset()
        runs["raw llama-cpp-python"].append(measure(raw, generator.count_tokens))
        llama.reset()
        runs["LlamaCppGenerator"].append(measure(ours, generator.count_tokens))

    raw_runs, our_runs = runs.values()
    print(
        f"model {generator.name}, threads {args.threads}, max_tokens {max_tokens}, "
        f"runs {args.runs} per side, KV cache reset before each run"
    )
    for name, measured in runs.items():
        print(summary(name, measured))
    ratio = max(r.rate for r in our_runs) / max(r.rate for r in raw_runs)
    median_ratio = statistics.median(r.rate for r in our_runs) / statistics.median(
        r.rate for r in raw_runs
    )
    print(f"ratio generator/raw: best {ratio:.3f}, median {median_ratio:.3f}  (target >= 0.9)")
    print(
        "load average before/after: " + " / ".join(f"{x:.2f}" for x in (load, os.getloadavg()[0]))
    )
    print(f"same text on both sides: {raw_runs[0].text == our_runs[0].text}")
    return 0 if ratio >= 0.9 else 1


if __name__ == "__main__":
    raise SystemExit(main())
