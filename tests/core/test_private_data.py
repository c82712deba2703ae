"""Private data: the gallery's files are the owner's alone, the running app listens on no network
port, and no SQL in the code base is built from values that could come from a user."""

from __future__ import annotations

import ast
import os
import re
import signal
import stat
import subprocess
import time
from pathlib import Path

import numpy as np
import psutil

from core import logs
from core.gallery.api import Gallery
from core.gallery.backup import backup
from core.gallery.store import NewSample
from core.paths import data_dir, default_db
from tests.support.cli import facegate_command
from tests.support.data import CLIP, ROOT


def _modes(folder: Path) -> dict[str, str]:
    return {f.name: oct(stat.S_IMODE(f.stat().st_mode)) for f in sorted(folder.iterdir())}


def test_gallery_files_are_created_owner_only(tmp_path, monkeypatch):
    monkeypatch.setenv("FACEGATE_HOME", str(tmp_path / "home"))
    os.umask(0o022)  # the usual umask: FaceGate must not rely on a strict one
    folder = data_dir()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    log = logs.setup(folder)
    try:
        with Gallery(default_db()) as g:
            g.enroll_samples("Ada", [NewSample(np.full(128, 0.01, np.float32), b"\xff\xd8thumb")])
            backup(g.store, folder / "gallery.backup")
            import logging

            logging.getLogger("facegate.test").error("an error for the log")
            modes = _modes(folder)  # while open: -wal and -shm exist too
    finally:
        logs.setup(tmp_path)  # move the log away from the folder under test
    print("\n" + "\n".join(f"  {name:<28} {mode}" for name, mode in modes.items()))
    assert {
        "gallery.db",
        "gallery.db-wal",
        "gallery.db-shm",
        "gallery.db.lock",
        "gallery.db.hnsw",
        "gallery.db.hnsw.stamp.json",
        "gallery.backup",
        log.name,
    } <= set(modes)
    assert {name: mode for name, mode in modes.items() if mode != "0o600"} == {}


# -- SQL is never built from user values -------------------------------------------------------
SQL = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|PRAGMA|WHERE|CREATE|DROP|ALTER|LIMIT|ORDER BY)\b")
SAFE_CALLS = {"int", "float", "len"}


class SqlChecker:
    """Finds SQL text (f-strings, + or % or .format on SQL-looking strings) whose interpolated
    parts are not provably constant: literals, int()/float(), conditionals and joins of
    literals, names only ever bound to such values, enumerate() counters, module constants."""

    def __init__(self, source: str, filename: str) -> None:
        self.tree = ast.parse(source, filename)
        self.filename = filename
        self.parents: dict[ast.AST, ast.AST] = {}
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node
        self.constants = {
            t.id: n.value for n in self.tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)
        }
        self.checked = 0

    def problems(self) -> list[str]:
        found = []
        for node in ast.walk(self.tree):
            parts = None
            if isinstance(node, ast.JoinedStr) and SQL.search(_text(node)):
                parts = [v.value for v in node.values if isinstance(v, ast.FormattedValue)]
            elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)) and SQL.search(_text(node.left)):
                parts = [node.right]
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "format"
                and SQL.search(_text(node.func.value))
            ):
                parts = [*node.args, *(k.value for k in node.keywords)]
            if parts is None:
                continue
            self.checked += 1
            for part in parts:
                if not self.trusted(part, self._scope(node), depth=0):
                    found.append(f"{self.filename}:{node.lineno}: {ast.unparse(part)} is pasted into SQL")
        return found

    def _scope(self, node: ast.AST) -> ast.AST:
        while node in self.parents and not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            node = self.parents[node]
        return node

    def trusted(self, expr: ast.AST, scope: ast.AST, depth: int) -> bool:
        if depth > 8:
            return False
        ok = lambda e: self.trusted(e, scope, depth + 1)  # noqa: E731
        if isinstance(expr, ast.Constant):
            return True
        if isinstance(expr, (ast.Tuple, ast.List)):
            return all(ok(e) for e in expr.elts)
        if isinstance(expr, ast.Dict):
            return all(ok(v) for v in expr.values) and all(k is None or ok(k) for k in expr.keys)
        if isinstance(expr, ast.IfExp):
            return ok(expr.body) and ok(expr.orelse)
        if isinstance(expr, ast.BinOp):
            return ok(expr.left) and ok(expr.right)
        if isinstance(expr, ast.JoinedStr):
            return all(ok(v.value) for v in expr.values if isinstance(v, ast.FormattedValue))
        if isinstance(expr, ast.Call):
            if isinstance(expr.func, ast.Name) and expr.func.id in SAFE_CALLS:
                return True
            if isinstance(expr.func, ast.Attribute) and expr.func.attr == "join" and ok(expr.func.value):
                return all(ok(a) for a in expr.args)
            if isinstance(expr.func, ast.Attribute) and expr.func.attr in ("items", "values", "keys"):
                return ok(expr.func.value)
            return False
        if isinstance(expr, ast.Name):
            if expr.id in self.constants and scope is not self.tree:
                return self.trusted(self.constants[expr.id], self.tree, depth + 1)
            return self._name_trusted(expr.id, scope, depth)
        return False

    def _name_trusted(self, name: str, scope: ast.AST, depth: int) -> bool:
        """Every binding of ``name`` in the function is trusted (parameters never are)."""
        if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)) and name in {
            a.arg for a in [*scope.args.args, *scope.args.kwonlyargs, *scope.args.posonlyargs]
        }:
            return False
        bound = False
        for node in ast.walk(scope):
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    values = _bound_values(target, node.value, name)
                    for value in values:
                        bound = True
                        if value is not None and not self.trusted(value, scope, depth + 1):
                            return False
            elif isinstance(node, (ast.For, ast.comprehension)):
                if name in {n.id for n in ast.walk(node.target) if isinstance(n, ast.Name)}:
                    bound = True
                    it = node.iter
                    counter = (
                        isinstance(it, ast.Call)
                        and isinstance(it.func, ast.Name)
                        and it.func.id == "enumerate"
                        and isinstance(node.target, ast.Tuple)
                        and isinstance(node.target.elts[0], ast.Name)
                        and node.target.elts[0].id == name
                    )
                    if not counter and not self.trusted(it, scope, depth + 1):
                        return False
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == name
                and node.func.attr in ("append", "extend", "insert")
                and not all(self.trusted(a, scope, depth + 1) for a in node.args)
            ):
                return False
        return bound


def _bound_values(target: ast.AST, value: ast.AST | None, name: str) -> list:
    """The values ``target = value`` binds to ``name`` (None: bound to something unknown)."""
    if isinstance(target, ast.Name):
        return [value] if target.id == name else []
    if isinstance(value, ast.IfExp):
        return _bound_values(target, value.body, name) + _bound_values(target, value.orelse, name)
    if isinstance(target, (ast.Tuple, ast.List)):
        if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts):
            return [v for t, e in zip(target.elts, value.elts, strict=True) for v in _bound_values(t, e, name)]
        return [ast.Name(id="<unknown>")] if any(n.id == name for n in ast.walk(target) if isinstance(n, ast.Name)) else []
    return []


def _text(node: ast.AST) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant))
    if isinstance(node, ast.BinOp):
        return _text(node.left) + _text(node.right)
    return ""


def test_no_sql_is_built_from_user_values():
    checked, problems = 0, []
    files = sorted([*(ROOT / "core").rglob("*.py"), *(ROOT / "gui").rglob("*.py"), ROOT / "main.py"])
    for path in files:
        checker = SqlChecker(path.read_text(), str(path.relative_to(ROOT)))
        problems += checker.problems()
        checked += checker.checked
    print(
        f"\n{checked} pieces of SQL built with f-strings/+/%/format in {len(files)} files: "
        f"{len(problems)} paste a value that is not a constant"
    )
    assert problems == []
    assert checked >= 5  # the checker does see the code's built SQL


def test_the_sql_checker_catches_pasted_values():
    bad = """
def find(db, name, limit):
    db.execute(f"SELECT * FROM people WHERE name = '{name}'")
    where = []
    where.append(name)
    db.execute("SELECT * FROM people WHERE " + " AND ".join(where))
    db.execute("DELETE FROM people WHERE id = %s" % limit)
    db.execute("UPDATE people SET notes = '{}'".format(name))
    col = name.strip()
    db.execute(f"SELECT {col} FROM people LIMIT {int(limit)}")
"""
    problems = SqlChecker(bad, "bad.py").problems()
    assert [p.split(": ", 1)[1] for p in problems] == [
        "name is pasted into SQL",
        "' AND '.join(where) is pasted into SQL",
        "limit is pasted into SQL",
        "name is pasted into SQL",
        "col is pasted into SQL",
    ]


# -- nothing listens on the network ------------------------------------------------------------
def _tree(proc: psutil.Process) -> list[psutil.Process]:
    return [proc, *proc.children(recursive=True)]


def test_the_running_app_listens_on_no_port(tmp_path):
    env = dict(
        os.environ, FACEGATE_HOME=str(tmp_path / "home"), XDG_CONFIG_HOME=str(tmp_path / "config"), QT_QPA_PLATFORM="offscreen"
    )
    app = subprocess.Popen(
        facegate_command("--source", CLIP), cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    proc = psutil.Process(app.pid)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and len(_tree(proc)) < 2 and app.poll() is None:
            time.sleep(0.5)  # the descriptor worker process is up: the window is running
        assert app.poll() is None, app.communicate()[0]
        assert len(_tree(proc)) >= 2, "the window never started its worker process"
        time.sleep(5)  # frames are being processed
        assert app.poll() is None
        sockets = {p.pid: p.net_connections(kind="all") for p in _tree(proc)}
        listening = [(pid, c.laddr, c.status) for pid, conns in sockets.items() for c in conns if c.status == psutil.CONN_LISTEN]
        inet = [
            (pid, c.laddr, c.raddr) for pid, conns in sockets.items() for c in conns if c.family in (2, 10)
        ]  # AF_INET, AF_INET6
        cpu = sum(p.cpu_times().user for p in _tree(proc))
        print(
            f"\n{len(sockets)} processes, {sum(map(len, sockets.values()))} sockets, "
            f"{len(listening)} listening, {len(inet)} IP sockets; {cpu:.1f} s of CPU spent on frames"
        )
        assert listening == [] and inet == []
    finally:
        for p in reversed(_tree(proc)):
            if p.is_running():
                p.send_signal(signal.SIGTERM)
        psutil.wait_procs(_tree(proc) if proc.is_running() else [], timeout=20)
        app.wait(timeout=20)
