"""The README's configuration table is the Settings class, rendered."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from advisor.config import settings_reference

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_settings_table_matches_the_settings_class():
    text = README.read_text(encoding="utf-8")
    match = re.search(r"<!-- settings:start -->\n(.*?)\n<!-- settings:end -->", text, re.S)
    assert match, "README lacks the settings markers"
    assert match.group(1) == settings_reference(), (
        "README's settings table is stale: regenerate it with `python -m advisor.config`"
    )


def test_readme_names_the_two_commands():
    text = README.read_text(encoding="utf-8")
    assert "make run" in text and "make test" in text


def _layout() -> list[str]:
    """The packages and top-level modules the README's Layout section lists under src/advisor/,
    in order."""
    text = README.read_text(encoding="utf-8")
    block = re.search(r"## Layout\n.*?```\nsrc/advisor/\n(.*?)\n```", text, re.S)
    assert block, "README lacks the Layout block"
    return re.findall(r"^  (\w+)(?:\.py|/)", block.group(1), re.M)


def test_readme_layout_names_every_package_and_top_level_module() -> None:
    src = README.parent / "src" / "advisor"
    listed = _layout()
    units = {p.stem for p in src.glob("*.py") if p.stem not in ("__init__", "__main__")}
    units |= {p.name for p in src.iterdir() if (p / "__init__.py").exists()}
    assert sorted(listed) == sorted(units), "README Layout and src/advisor differ"
    assert len(listed) == len(set(listed)), "a package is listed twice"


def test_packages_import_only_what_the_layout_lists_above_them(import_graph: Any) -> None:
    """Package by package, every import of another package or top-level module (at module
    level, for type checking or inside a function) goes up the README's list, never down."""
    graph = import_graph
    order = {name: i for i, name in enumerate(_layout())}
    edges = graph.graph(frozenset({"module", "type_checking", "function"}))
    wrong = []
    for source, targets in sorted(edges.items()):
        here = graph.unit(source)
        for target in sorted(targets):
            there = graph.unit(target)
            if there in (here, "advisor"):  # its own package; the root holds only __version__
                continue
            if order[there] > order[here]:
                wrong.append(f"{source} imports {target}: {there} is listed below {here}")
    assert not wrong, "\n".join(wrong)
