"""`facegate <command>`: the core's verbs on the command line, with --json for scripts.

Every command takes --db PATH (default: the gallery in the user's data folder). Errors are
printed as one line naming what is wrong, with exit status 2; nothing is half-done. Each group
of verbs lives in its own module (gallery, settings, tools, door, site, service, events, visitors,
review, replay); this one only parses and routes.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from core import logs
from core.cli import door, events, gallery, replay, review, service, settings, site, tools, visitors
from core.errors import FaceGateError
from core.paths import default_db

GROUPS = (gallery, settings, tools, door, site, service, events, visitors, review, replay)
COMMANDS = tuple(c for group in GROUPS for c in group.COMMANDS)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db",
        type=Path,
        default=None,
        help="gallery database (default: gallery.db in the user's data folder, or in $FACEGATE_HOME)",
    )
    common.add_argument("--json", action="store_true", help="print JSON instead of text")
    common.add_argument("--threshold", type=float, default=None, help="match threshold, Euclidean (default 0.4)")

    parser = argparse.ArgumentParser(prog="facegate", description="FaceGate face recognition, on the command line.")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.add_parsers(sub, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logs.setup(Path(getattr(args, "db", None) or default_db()).parent)
    try:
        status = next(g for g in GROUPS if args.command in g.COMMANDS).run(args)
        sys.stdout.flush()  # here, where a closed pipe is caught, not at exit
        return status
    except BrokenPipeError:
        return _reader_left()
    except FaceGateError as exc:
        logging.getLogger("facegate.cli").error("%s: %s", args.command, exc)
        if args.json:
            print(json.dumps({"error": str(exc)}))
        else:
            print(f"facegate: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("facegate: interrupted; nothing half-written was kept", file=sys.stderr)
        return 130


def _reader_left() -> int:
    """The reader of our output went away (``facegate recent --json | head``): stop quietly, as a
    program killed by SIGPIPE would (status 141), with no traceback when Python flushes at exit."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 141
