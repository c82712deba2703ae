"""The project's shape: core/ never imports Qt, main.py only wires, the README's commands exist."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import tomllib

from tests.support.data import ROOT

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
