"""The project's shape: core/ never imports Qt, no module imports itself through others, the
import contracts, ruff and the cycle check each catch a deliberate violation, main.py only wires,
the README's commands exist."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import tomllib

from tests.support.data import ROOT

BIN = Path(sys.executable).parent  # the virtualenv's tools: lint-imports beside python

QT = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "gui")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_core_never_imports_qt_or_gui():
    offenders = {str(p.relative_to(ROOT)): sorted(_imports(p) & set(QT)) for p in (ROOT / "core").rglob("*.py")}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_core_imports_without_loading_models():
    import subprocess
    import sys

    code = "import core, sys; assert 'PySide6' not in sys.modules; print(core.Describer()._models)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "{}"


def test_layout_and_dependencies():
    for name in ("main.py", "gui", "core", "resources", "tests", "pyproject.toml", "packaging"):
        assert (ROOT / name).exists(), name
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = " ".join(project["dependencies"])
    for pkg in ("pyside6", "opencv-python-headless", "dlib", "numpy", "hnswlib", "sqlite-utils", "face-recognition-models"):
        assert pkg in deps, pkg
    assert re.search(r"opencv-python-headless[^ ]*<5", deps)
    assert not re.search(r'"opencv-python[<>=]', (ROOT / "pyproject.toml").read_text())
    assert project["scripts"]["facegate"] == "main:main"


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make run" in readme
    assert re.search(r"^make test$", ci, re.M)


# -- import cycles --------------------------------------------------------------------------------
def import_cycles(*packages: str) -> list[list[str]]:
    """Groups of the packages' modules that import each other, directly or through others (the
    strongly connected components of grimp's import graph with more than one module, or a module
    importing itself), each sorted; lazy imports inside functions count too."""
    import grimp

    graph = grimp.build_graph(*packages, cache_dir=None)
    imports = {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(module: str) -> None:  # Tarjan's algorithm
        order[module] = low[module] = len(order)
        stack.append(module)
        for other in imports[module]:
            if other not in order:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], order[other])
        if low[module] == order[module]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == module:
                    break
            if len(group) > 1 or module in imports[module]:
                cycles.append(sorted(group))

    for module in sorted(imports):
        if module not in order:
            visit(module)
    return sorted(cycles)


def test_no_import_cycles_in_core_and_gui():
    assert import_cycles("core", "gui") == []


def test_the_cycle_check_finds_a_cycle(tmp_path, monkeypatch):
    package = tmp_path / "loopy"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from loopy import b\n")
    (package / "b.py").write_text("def later():\n    from loopy import c  # lazy: still a cycle\n")
    (package / "c.py").write_text("import loopy.a\n")
    (package / "d.py").write_text("import loopy.a\n")  # imports into the cycle, is not part of it
    monkeypatch.syspath_prepend(str(tmp_path))
    assert import_cycles("loopy") == [["loopy.a", "loopy.b", "loopy.c"]]


# -- the checkers catch a deliberate violation ----------------------------------------------------
def _copy_of_the_project(tmp_path: Path) -> Path:
    for name in ("core", "gui"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def _lint_imports(folder: Path) -> tuple[int, str]:
    """lint-imports on the copy in ``folder`` (it puts its working folder first on the path): its
    exit status, and its report with the line wrapping undone."""
    out = subprocess.run([str(BIN / "lint-imports"), "--no-cache"], cwd=folder, capture_output=True, text=True, timeout=300)
    print(out.stdout[out.stdout.find("Contracts") :])
    return out.returncode, " ".join(out.stdout.split())


def _append(path: Path, line: str) -> None:
    path.write_text(path.read_text() + f"\n{line}\n")


def test_the_import_contracts_catch_a_violation(tmp_path):
    project = _copy_of_the_project(tmp_path)
    status, report = _lint_imports(project)
    assert status == 0, report
    assert "Contracts: 4 kept, 0 broken." in report

    _append(project / "core" / "errors.py", "import PySide6  # deliberate: core must never import Qt")
    status, report = _lint_imports(project)
    assert status != 0
    assert "core never imports Qt or the GUI BROKEN" in report and "core.errors -> PySide6" in report

    (project / "core" / "errors.py").write_text((ROOT / "core" / "errors.py").read_text())
    _append(project / "core" / "vision" / "images.py", "import core.gallery.store  # deliberate: vision is below gallery")
    status, report = _lint_imports(project)
    assert status != 0
    assert (
        "core's layers point one way: cli -> station -> service -> tools/door/live/site -> gallery -> vision -> records BROKEN"
        in report
    )
    assert "core.vision is not allowed to import core.gallery" in report
    assert "core.vision.images -> core.gallery.store" in report

    (project / "core" / "vision" / "images.py").write_text((ROOT / "core" / "vision" / "images.py").read_text())
    _append(
        project / "core" / "service" / "monitor.py", "import core.live.loop  # deliberate: only the station joins live and door"
    )
    status, report = _lint_imports(project)
    assert status != 0
    assert "only the station joins the frame loop and the door: the service never imports the frame loop BROKEN" in report


def test_ruff_catches_unsorted_imports(tmp_path):
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    (tmp_path / "core").mkdir()
    (tmp_path / "core" / "sorted_wrong.py").write_text("import sys\nimport os\n\nprint(os, sys)\n")
    out = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert out.returncode != 0
    assert "I001" in out.stdout and "sorted_wrong.py" in out.stdout
