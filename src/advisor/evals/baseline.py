"""Committed baselines: figures a change is compared against, each with its command.

``evals/baseline.json`` maps an entry name ("eval dev_questions hybrid") to the figures one
command produced, a tolerance per figure, and the command. ``--baseline FILE`` prints the
difference per figure and fails when a figure drops by more than its tolerance;
``--write-baseline FILE`` records the figures of a run; ``advisor baseline --refresh`` runs
every recorded command again.

Tolerances: a rate over n cases moves by 1/n when one case flips, so a drop of one case is
tolerated (1/n + 0.0005) and two are not. Timings depend on the machine and its load: they are
shown, never judged.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from advisor.errors import EvaluationError

Figures = Mapping[str, Any]
#: Figures where lower is better; everything else (rates, ranks) is better higher.
LOWER_IS_BETTER = frozenset({"false_refusal_rate"})
FORMAT = 1


@dataclass(frozen=True)
class Row:
    """One figure compared with its baseline."""

    entry: str
    figure: str
    baseline: float
    now: float
    tolerance: float | None

    @property
    def change(self) -> float:
        """Now minus the baseline."""
        return round(self.now - self.baseline, 4)

    @property
    def dropped(self) -> bool:
        """Worse than the baseline by more than the tolerance."""
        if self.tolerance is None:
            return False
        worse = self.change if self.figure in LOWER_IS_BETTER else -self.change
        return worse > self.tolerance


def is_timing(figure: str) -> bool:
    """Latencies and throughputs: reported, never judged."""
    return "_ms" in figure or figure.endswith("_per_s")


def tolerance_for(figure: str, n: int) -> float | None:
    """One case may flip: 1/n (plus rounding slack) for a rate; None for a timing."""
    if is_timing(figure) or figure == "n":
        return None
    return round(1 / max(n, 1) + 0.0005, 4)


def load(path: Path) -> dict[str, Any]:
    """The baseline file (an empty one when it does not exist yet)."""
    if not path.is_file():
        return {"format": FORMAT, "entries": {}}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EvaluationError(f"cannot read the baseline {path}: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("entries"), dict):
        raise EvaluationError(f"{path} is not a baseline file (no 'entries')")
    return data


def compare(path: Path, runs: Mapping[str, Figures]) -> list[Row]:
    """Every numeric figure of every run that the baseline holds an entry for."""
    entries = load(path)["entries"]
    known = [name for name in runs if name in entries]
    if not known:
        raise EvaluationError(
            f"{path} holds no entry for {', '.join(runs)}: record one with --write-baseline"
        )
    rows = []
    for name in known:
        base = entries[name]
        tolerances = base.get("tolerance", {})
        for figure, value in base["figures"].items():
            now = runs[name].get(figure)
            if isinstance(now, (int, float)) and isinstance(value, (int, float)):
                rows.append(Row(name, figure, float(value), float(now), tolerances.get(figure)))
    return rows


def format_rows(rows: list[Row]) -> str:
    """The comparison as plain text: one line per figure, drops marked."""
    lines = [f"{'entry':<34} {'figure':<24} {'baseline':>9} {'now':>9} {'change':>8}  verdict"]
    for r in rows:
        if r.figure == "n":
            verdict = "same cases" if r.change == 0 else "OTHER CASES: refresh the baseline"
        elif r.tolerance is None:
            verdict = "(timing, not judged)"
        else:
            verdict = f"DROP beyond {r.tolerance}" if r.dropped else f"ok (tolerance {r.tolerance})"
        lines.append(f"{r.entry:<34} {r.figure:<24} {r.baseline:>9.4g} {r.now:>9.4g} "
                     f"{r.change:>+8.4f}  {verdict}")
    return "\n".join(lines)


def record(
    path: Path,
    runs: Mapping[str, Figures],
    *,
    command: list[str],
    denominators: Mapping[str, int] | None = None,
) -> None:
    """Write (or replace) the entries of these runs, keeping every other entry; a figure
    counted over fewer cases than ``n`` (off-topic questions only) names its count in
    ``denominators``."""
    data = load(path)
    data["format"] = FORMAT
    data.setdefault("about", __doc__.split("\n\n")[1].replace("\n", " "))
    for name, figures in runs.items():
        flat = {k: v for k, v in figures.items() if isinstance(v, (int, float))}
        n = int(flat.get("n", 0))
        data["entries"][name] = {
            "command": shlex.join(command),
            "figures": flat,
            "tolerance": {k: tolerance_for(k, (denominators or {}).get(k, n)) for k in flat},
        }
    data["entries"] = dict(sorted(data["entries"].items()))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def refresh(path: Path, run: Callable[[list[str]], int], *, only: str = "") -> int:
    """Run every recorded command again (once each), writing its figures back."""
    commands = sorted({e["command"] for e in load(path)["entries"].values()})
    commands = [c for c in commands if only in c]
    if not commands:
        raise EvaluationError(f"{path} records no command{' matching ' + only if only else ''}")
    worst = 0
    for command in commands:
        argv = shlex.split(command)
        if argv[:1] == ["advisor"]:
            argv = argv[1:]
        code = run([*argv, "--write-baseline", str(path)])
        worst = max(worst, code)
    return worst
