"""``facegate`` in a child process, the way a user or a script runs it: the one way tests do so.

out = facegate("people", "--db", db, "--json")          # CompletedProcess, text
out = facegate("remove", "nobody", "--db", db, check=False)
app = subprocess.Popen(facegate_command("--source", CLIP), ...)   # the window, for tests that watch it
"""

from __future__ import annotations

import subprocess
import sys

from tests.support.data import ROOT


def facegate_command(*args) -> list[str]:
    """The command line that runs this checkout's ``facegate`` with ``args`` (paths become text)."""
    return [sys.executable, str(ROOT / "main.py"), *map(str, args)]


def facegate(
    *args, check: bool = False, env: dict[str, str] | None = None, timeout: float | None = 600
) -> subprocess.CompletedProcess[str]:
    """Run ``facegate args...`` from the checkout's root and capture its output (text). With
    ``check``, a non-zero exit status fails the test, showing what the command printed on stderr."""
    out = subprocess.run(facegate_command(*args), capture_output=True, text=True, cwd=ROOT, env=env, timeout=timeout)
    if check:
        assert out.returncode == 0, out.stderr
    return out
