"""FaceGate's entry point: a CLI verb runs the core's command line; otherwise the window opens.

Only wiring lives here. freeze_support() must come first so the frozen (PyInstaller) app's
descriptor worker process starts as a worker, not as a second window.
"""

from __future__ import annotations

import multiprocessing
import sys


def main(argv: list[str] | None = None) -> int:
    multiprocessing.freeze_support()
    argv = list(sys.argv[1:] if argv is None else argv)
    from core.cli.main import COMMANDS

    if argv and argv[0] in COMMANDS:
        from core.cli.main import main as cli_main

        return cli_main(argv)
    from gui.app import run

    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
