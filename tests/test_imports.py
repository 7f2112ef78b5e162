"""How the package imports itself: no cycles, other packages through each package's face, and no
model library loaded by the command line or the web app until a command needs one."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]
EVERY_IMPORT = frozenset({"module", "type_checking", "function"})
#: Libraries that take seconds or a model to load: imported only where a command uses them.
HEAVY = ("torch", "sentence_transformers", "llama_cpp", "ranx", "numba")


def _import_cycles() -> ModuleType:
    """bench/import_cycles.py, loaded once per process."""
    if "import_cycles" in sys.modules:
        return sys.modules["import_cycles"]
    path = REPO / "bench" / "import_cycles.py"
    spec = importlib.util.spec_from_file_location("import_cycles", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["import_cycles"] = module  # where its dataclass finds its own module
    spec.loader.exec_module(module)
    return module


def test_no_import_cycles_between_modules_or_packages() -> None:
    tool = _import_cycles()
    edges = tool.graph(EVERY_IMPORT)
    assert tool.cycles(edges) == []
    assert tool.cycles(tool.package_graph(edges)) == []


def test_the_cycle_check_finds_a_cycle(tmp_path: Path) -> None:
    tool = _import_cycles()
    package = tmp_path / "advisor" / "answer"
    package.mkdir(parents=True)
    (tmp_path / "advisor" / "__init__.py").write_text("")
    (package / "__init__.py").write_text("from advisor.answer.compose import Composer\n")
    (package / "compose.py").write_text("from advisor.answer import shapes\n")
    (package / "shapes.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
        "    from advisor.answer.compose import Composer\n")
    edges = tool.graph(EVERY_IMPORT, tmp_path)
    assert tool.cycles(edges) == [["advisor.answer.compose", "advisor.answer.shapes"]]
    assert tool.main(["--src", str(tmp_path)]) == 1


def test_other_packages_import_a_package_through_its_face() -> None:
    """``from advisor.answer import ChatService``, not ``advisor.answer.chat``: an import of an
    inner module from outside its package is one the package's ``__init__`` exports by name (a
    module of plain names such as ``evals.baseline``)."""
    tool = _import_cycles()
    edges = tool.graph(EVERY_IMPORT)
    inner = []
    for source, targets in sorted(edges.items()):
        for target in sorted(targets):
            face = ".".join(target.split(".")[:2])
            if (tool.unit(target) != tool.unit(source) and target != face
                    and target not in edges.get(face, ())):
                inner.append(f"{source} imports {target}")
    assert not inner, "\n".join(inner)


def test_the_command_line_and_the_app_load_no_model_library() -> None:
    code = ("import sys, advisor.api.app, advisor.cli; advisor.cli.build_parser(); "
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True)
    assert run.stdout.strip() == "[]", run.stdout + run.stderr
