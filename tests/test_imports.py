"""How the package imports itself: no cycles, other packages through each package's face, and no
model library loaded by the command line or the web app until a command needs one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import ModuleType

EVERY_IMPORT = frozenset({"module", "type_checking", "function"})
#: Libraries that take seconds or a model to load: imported only where a command uses them.
HEAVY = ("torch", "sentence_transformers", "llama_cpp", "ranx", "numba")


def test_no_import_cycles_between_modules_or_packages(import_graph: ModuleType) -> None:
    edges = import_graph.graph(EVERY_IMPORT)
    assert import_graph.cycles(edges) == []
    assert import_graph.cycles(import_graph.package_graph(edges)) == []


def test_the_cycle_check_finds_a_cycle(import_graph: ModuleType, tmp_path: Path) -> None:
    package = tmp_path / "advisor" / "answer"
    package.mkdir(parents=True)
    (tmp_path / "advisor" / "__init__.py").write_text("")
    (package / "__init__.py").write_text("from advisor.answer.compose import Composer\n")
    (package / "compose.py").write_text("from advisor.answer import shapes\n")
    (package / "shapes.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
        "    from advisor.answer.compose import Composer\n")
    edges = import_graph.graph(EVERY_IMPORT, tmp_path)
    assert import_graph.cycles(edges) == [["advisor.answer.compose", "advisor.answer.shapes"]]
    assert import_graph.main(["--src", str(tmp_path)]) == 1


def test_other_packages_import_a_package_through_its_face(import_graph: ModuleType) -> None:
    """``from advisor.answer import ChatService``, not ``advisor.answer.chat``: an import of an
    inner module from outside its package is one the package's ``__init__`` exports by name (a
    module of plain names such as ``evals.baseline``)."""
    edges = import_graph.graph(EVERY_IMPORT)
    inner = []
    for source, targets in sorted(edges.items()):
        for target in sorted(targets):
            face = ".".join(target.split(".")[:2])
            if (import_graph.unit(target) != import_graph.unit(source) and target != face
                    and target not in edges.get(face, ())):
                inner.append(f"{source} imports {target}")
    assert not inner, "\n".join(inner)


def test_the_command_line_and_the_app_load_no_model_library() -> None:
    code = ("import sys, advisor.api.app, advisor.cli; advisor.cli.build_parser(); "
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True)
    assert run.stdout.strip() == "[]", run.stdout + run.stderr
