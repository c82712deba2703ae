"""`facegate replay VIDEO`: a recorded video through the live loop and the door decision, exactly
as the window decides, with a simulated door (never the real output), at full speed.

    facegate replay attempt.mp4                # each visit, its verdict and why, and the unlocks
    facegate replay attempt.mp4 --json         # {"visits": [...], "unlocks": N, ...}
    facegate replay attempt.mp4 --log          # also write the decisions to the access log

Read-only on the gallery unless --log. The decision settings are the gallery's own (the Door
page's); the live loop uses its defaults and --threshold (the window keeps its detector and
smallest-face choices per user, outside the gallery).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from core.cli.common import say
from core.errors import StoreError
from core.live.sources import SourceError
from core.paths import default_db

COMMANDS = ("replay",)


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("replay", parents=[common],
                       help="play a recorded video through the live loop and the door decision (simulated door)")
    p.add_argument("video", type=Path)
    p.add_argument("--log", action="store_true", help="write the decisions to the access log (default: read-only)")


def run(args: argparse.Namespace) -> int:
    from core.gallery.api import Gallery
    from core.gallery.match import DEFAULT_THRESHOLD
    from core.live.loop import LiveSettings
    from core.station.replay import replay

    db = args.db or default_db()
    if not args.video.is_file():
        raise SourceError(f"{args.video}: no such video file")
    if not Path(db).exists():
        raise StoreError(f"{db}: no gallery here (enroll someone first, or give --db)")
    live = LiveSettings(threshold=args.threshold if args.threshold is not None else DEFAULT_THRESHOLD)
    with Gallery(db, readonly=not args.log) as g:
        report = replay(args.video, g, live, log=args.log)
    text = "\n".join([v.line() for v in report.visits] or ["no faces"])
    say(args, report.as_dict(), f"{text}\n{report.frames} frames; unlocks: {report.unlocks}")
    return 0
