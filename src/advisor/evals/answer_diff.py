"""``advisor eval-answers --diff A.jsonl B.jsonl``: the cases that flipped, per figure.

Both files are ``--cases-out`` reports (one JSON object per case with an ``id``). Every
true/false field of a case is a figure (``evidence_in_answer``, ``citation_supports``,
``refused``, ...), so new verdicts are compared without changes here; ``citation_valid`` is
derived from ``markers`` and ``valid_markers``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from advisor.errors import EvaluationError
from advisor.evals.cases import jsonl_records

#: Fields that describe a case rather than judge its answer.
NOT_FIGURES = frozenset({"answerable"})


def read_cases(path: Path) -> dict[str, dict[str, Any]]:
    """A ``--cases-out`` file as records by case id."""
    out: dict[str, dict[str, Any]] = {}
    for n, record in jsonl_records(path, "a per-case answer record"):
        try:
            out[str(record["id"])] = record
        except (KeyError, TypeError) as exc:
            raise EvaluationError(f"{path}:{n}: not a per-case answer record ({exc})") from exc
    if not out:
        raise EvaluationError(f"{path} holds no cases")
    return out


def verdicts(record: dict[str, Any]) -> dict[str, bool]:
    """The true/false figures of one case."""
    out = {k: v for k, v in record.items() if isinstance(v, bool) and k not in NOT_FIGURES}
    markers, valid = record.get("markers"), record.get("valid_markers")
    if isinstance(markers, int) and isinstance(valid, int):
        out["citation_valid"] = markers == valid
    return out


def diff(a: Path, b: Path) -> dict[str, Any]:
    """Per figure, the case ids that went from false to true (gained) and back (lost)."""
    left, right = read_cases(a), read_cases(b)
    shared = [cid for cid in left if cid in right]
    figures: dict[str, dict[str, list[str]]] = {}
    for cid in shared:
        before, after = verdicts(left[cid]), verdicts(right[cid])
        for figure in sorted(set(before) & set(after)):
            slot = figures.setdefault(figure, {"gained": [], "lost": []})
            if after[figure] and not before[figure]:
                slot["gained"].append(cid)
            elif before[figure] and not after[figure]:
                slot["lost"].append(cid)
    return {
        "a": str(a),
        "b": str(b),
        "shared": len(shared),
        "only_in_a": [cid for cid in left if cid not in right],
        "only_in_b": [cid for cid in right if cid not in left],
        "figures": figures,
    }


def format_diff(result: dict[str, Any]) -> str:
    """The diff for a terminal: per figure, how many flipped each way, and which."""
    lines = [f"A = {result['a']}", f"B = {result['b']}", f"{result['shared']} cases in both"]
    for side in ("only_in_a", "only_in_b"):
        if result[side]:
            lines.append(f"{side.replace('_', ' ')}: {', '.join(result[side])}")
    for figure, flips in result["figures"].items():
        gained, lost = flips["gained"], flips["lost"]
        lines.append(f"{figure}: {len(gained)} false -> true, {len(lost)} true -> false")
        if gained:
            lines.append(f"  false -> true: {', '.join(gained)}")
        if lost:
            lines.append(f"  true -> false: {', '.join(lost)}")
    return "\n".join(lines)
