"""Import cycles in src/advisor, between modules and between packages, read with ``ast``.

    .venv/bin/python bench/import_cycles.py [--lazy] [--src SRC]

Every ``import`` of an advisor module counts: at module level, under ``if TYPE_CHECKING:``
(a cycle there is still a cycle for a reader and for mypy) and, with ``--lazy``, inside
functions too. ``from advisor.answer import shapes`` is an import of the module
``advisor.answer.shapes``; ``from advisor.answer import ChatService`` one of the package's face
``advisor.answer``. A module's own package's ``__init__`` runs first when it is imported, but
that is no edge here: only what the file names. Prints each cycle (a strongly connected group
of modules, and of packages: ``answer``, ``config``, ... ) and ends with "N cycles".
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT = "advisor"


@dataclass(frozen=True)
class Import:
    """One advisor module a file imports, and where the statement stands."""

    target: str
    line: int
    where: str  # "module", "type_checking" or "function"


def module_name(path: Path, src: Path = SRC) -> str:
    """``advisor.answer.chat`` for src/advisor/answer/chat.py, ``advisor.answer`` for its
    ``__init__.py``."""
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(src: Path = SRC) -> dict[str, Path]:
    """Every module of the package, by dotted name."""
    return {module_name(p, src): p for p in sorted((src / ROOT).rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _statements(body: Iterable[ast.stmt], where: str) -> Iterator[tuple[ast.stmt, str]]:
    """Every import statement with its place: module level, TYPE_CHECKING, or a function."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, where
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    yield inner, "function"
        elif isinstance(node, ast.If) and _is_type_checking(node):
            yield from _statements(node.body, "type_checking")
            yield from _statements(node.orelse, where)
        else:  # classes, try, with, other ifs: their nested statements keep this place
            for field in ("body", "orelse", "finalbody", "handlers"):
                inner_body = getattr(node, field, None)
                if isinstance(inner_body, list):
                    yield from _statements(
                        [n for n in inner_body if isinstance(n, ast.stmt | ast.excepthandler)]
                        if field != "handlers" else
                        [s for h in inner_body for s in h.body], where)


def imports(path: Path, known: dict[str, Path], src: Path = SRC) -> list[Import]:
    """The advisor modules ``path`` imports."""
    name = module_name(path, src)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[Import] = []
    for node, where in _statements(ast.parse(path.read_text(encoding="utf-8")).body, "module"):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:  # relative: from .x import y
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base
                       for a in node.names]
        for target in dict.fromkeys(targets):
            if target == ROOT or target.startswith(ROOT + "."):
                while target not in known and "." in target:  # import a.b.c of a module a.b
                    target = target.rpartition(".")[0]
                found.append(Import(target, node.lineno, where))
    return found


def graph(places: frozenset[str], src: Path = SRC) -> dict[str, set[str]]:
    """Module -> the modules it imports, counting the statements in ``places``."""
    known = modules(src)
    return {name: {i.target for i in imports(path, known, src)
                   if i.where in places and i.target != name}
            for name, path in known.items()}


def unit(module: str) -> str:
    """The package or top-level module a module belongs to: ``answer`` for
    ``advisor.answer.chat``, ``config`` for ``advisor.config``, ``advisor`` for the root."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def package_graph(modules_graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The same imports between packages (and top-level modules), inner ones left out."""
    out: dict[str, set[str]] = {}
    for source, targets in modules_graph.items():
        out.setdefault(unit(source), set()).update(
            unit(t) for t in targets if unit(t) != unit(source))
    return out


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one node (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * len(edges) + 100))
    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lazy", action="store_true",
                        help="count the imports inside functions too")
    parser.add_argument("--src", type=Path, default=SRC, help="the folder holding advisor/")
    args = parser.parse_args(argv)
    places = frozenset({"module", "type_checking"} | ({"function"} if args.lazy else set()))
    by_module = graph(places, args.src)
    groups = [("modules", g) for g in cycles(by_module)]
    groups += [("packages", g) for g in cycles(package_graph(by_module))]
    for kind, group in groups:
        print(f"cycle between {kind}: {' <-> '.join(group)}")
    counted = "module-level, TYPE_CHECKING" + (" and function-level" if args.lazy else "")
    print(f"{len(by_module)} modules, {sum(map(len, by_module.values()))} imports "
          f"({counted}): {len(groups)} cycles")
    return 1 if groups else 0


if __name__ == "__main__":
    sys.exit(main())
