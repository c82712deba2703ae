"""`facegate replay VIDEO`: a recorded video through the live loop and the door decision, exactly
as the window decides, with a simulated door (never the real output), at full speed.

    facegate replay attempt.mp4                # each visit, its verdict and why, and the unlocks
    facegate replay attempt.mp4 --json         # {"visits": [...], "unlocks": N, ...}
    facegate replay attempt.mp4 --log          # also write the decisions to the access log

Read-only on the gallery unless --log. Every setting is the gallery's own, as the window uses
them (`facegate settings`: the detector, smallest face and quality gates, the Door page's
decision, the site's offline policy); --threshold tries another live threshold.

    facegate eval-video VIDEO LABELS.csv [--json]   # per labelled shot: named right / wrong /
                                                    # unknown, frames to name, unlocked; totals

The labels say who is where, frame by frame (core.station.labels; the shared footage's and the
clip's are in tests/data/labels/). Read-only on the gallery.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from core.cli.common import say
from core.errors import StoreError
from core.live.sources import SourceError
from core.paths import default_db

COMMANDS = ("replay", "eval-video")


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("replay", parents=[common],
                       help="play a recorded video through the live loop and the door decision (simulated door)")
    p.add_argument("video", type=Path)
    p.add_argument("--log", action="store_true", help="write the decisions to the access log (default: read-only)")
    p = sub.add_parser("eval-video", parents=[common],
                       help="replay a labelled recording through the door; per shot: named right / wrong / unknown")
    p.add_argument("video", type=Path)
    p.add_argument("labels", type=Path, help="CSV: first,last,person[,left,top,right,bottom,live] per shot")


def run(args: argparse.Namespace) -> int:
    from core.gallery.api import Gallery
    from core.station.replay import replay

    db = args.db or default_db()
    if not args.video.is_file():
        raise SourceError(f"{args.video}: no such video file")
    if not Path(db).exists():
        raise StoreError(f"{db}: no gallery here (enroll someone first, or give --db)")
    if args.command == "eval-video":
        from core.station.eval_video import eval_video
        from core.station.labels import read_labels

        read_labels(args.labels)  # a bad label file is refused before the video is played
        with Gallery(db, readonly=True) as g:
            scored = eval_video(args.video, args.labels, g, threshold=args.threshold)
        say(args, scored.as_dict(), scored.text())
        return 0
    with Gallery(db, readonly=not args.log) as g:
        report = replay(args.video, g, log=args.log, threshold=args.threshold)
    text = "\n".join([v.line() for v in report.visits] or ["no faces"])
    say(args, report.as_dict(), f"{text}\n{report.frames} frames; unlocks: {report.unlocks}")
    return 0
