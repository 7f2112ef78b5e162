"""The code style gate of pyproject.toml: ruff over everything. mypy strict over src/ is a step
of its own in `make test` (and `make lint`): from a new checkout its cache is cold and it takes
over a minute, which no fast tier can hold."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def test_ruff_is_clean() -> None:
    run = subprocess.run([str(BIN / "ruff"), "check", "src", "tests", "bench"], cwd=REPO,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr

