"""The README's configuration table is the Settings class, rendered."""

from __future__ import annotations

import re
from pathlib import Path

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
    """The modules the README's Layout section lists under src/advisor/, in order."""
    text = README.read_text(encoding="utf-8")
    block = re.search(r"## Layout\n.*?```\nsrc/advisor/\n(.*?)\nprompts/", text, re.S)
    assert block, "README lacks the Layout block"
    return re.findall(r"^  (\w+)(?:\.py|/)", block.group(1), re.M)


def _top_level_imports(path: Path) -> set[str]:
    """advisor modules a file imports at module level (TYPE_CHECKING blocks left out)."""
    import ast

    found: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module == "advisor":
            names = [f"advisor.{alias.name}" for alias in node.names
                     if alias.name.islower() and not alias.name.startswith("_")]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        found.update(n.split(".")[1] for n in names if n.startswith("advisor."))
    return found


def test_readme_layout_names_every_module_in_import_order() -> None:
    src = README.parent / "src" / "advisor"
    listed = _layout()
    modules = {p.stem for p in src.glob("*.py") if p.stem not in ("__init__", "__main__")}
    modules |= {p.name for p in src.iterdir() if (p / "__init__.py").exists()}
    assert sorted(listed) == sorted(modules), "README Layout and src/advisor differ"
    order = {name: i for i, name in enumerate(listed)}
    for name in listed:
        files = [src / f"{name}.py"] if (src / f"{name}.py").exists() else \
            sorted((src / name).rglob("*.py"))
        for path in files:
            for imported in _top_level_imports(path) - {name}:
                assert order[imported] < order[name], (
                    f"{path.relative_to(src)} imports {imported}, listed after {name}")
