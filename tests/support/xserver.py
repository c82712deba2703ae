"""A real X server for tests: Xvfb (installed by scripts/setup) on a free display number."""

from __future__ import annotations

import contextlib
import os
import subprocess


@contextlib.contextmanager
def xvfb():
    """An X server on a free display, 1280x800: the desktop's xcb path. Yields ":N"."""
    read, write = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    try:
        with os.fdopen(read) as fd:
            number = fd.readline().strip()
        assert number.isdigit(), "Xvfb did not start"
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=30)
