"""`facegate replay VIDEO`: a recorded video through the live loop and the door decision, exactly
as the window decides, with a simulated door (never the real output), at full speed.

    facegate replay attempt.mp4                # each visit, its verdict and why, and the unlocks
    facegate replay attempt.mp4 --json         # {"visits": [...], "unlocks": N, ...}
    facegate replay attempt.mp4 --log          # also write the decisions to the access log

Read-only on the gallery unless --log. Every setting is the gallery's own, as the window uses
them (`facegate settings`: the detector, smallest face and quality gates, the Door page's
decision, the site's offline policy); --threshold tries another live threshold.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from core.cli.common import say
from core.errors import StoreError
from core.live.sources import SourceError
from core.paths import default_db

COMMANDS = ("replay",)


def add_parsers(sub, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("replay", parents=[common],
                       help="play a recorded video through the live loop and the door decision (simulated door)")
    p.add_argument("video", type=Path)
    p.add_argument("--log", action="store_true", help="write the decisions to the access log (default: read-only)")


def run(args) -> int:
    from core.gallery.api import Gallery
    from core.station.replay import replay

    db = args.db or default_db()
    if not args.video.is_file():
        raise SourceError(f"{args.video}: no such video file")
    if not Path(db).exists():
        raise StoreError(f"{db}: no gallery here (enroll someone first, or give --db)")
    with Gallery(db, readonly=not args.log) as g:
        report = replay(args.video, g, log=args.log, threshold=args.threshold)
    text = "\n".join([v.line() for v in report.visits] or ["no faces"])
    say(args, report.as_dict(), f"{text}\n{report.frames} frames; unlocks: {report.unlocks}")
    return 0
