"""`facegate replay VIDEO`: a recorded video through the live loop and the door decision, exactly
as the window decides, with a simulated door (never the real output), at full speed; and
`facegate liveness-report GENUINE_DIR ATTACK_DIR`: every recording of two folders replayed so, with
the presentation attack figures (core.station.liveness_report).

    facegate replay attempt.mp4                # each visit, its verdict and why, and the unlocks
    facegate replay attempt.mp4 --json         # {"visits": [...], "unlocks": N, ...}
    facegate replay attempt.mp4 --log          # also write the decisions to the access log
    facegate liveness-report genuine/ attacks/ --plot det.png   # APCER per attack folder, BPCER, cues

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
import sys
from pathlib import Path

from core.cli.common import say
from core.errors import StoreError
from core.live.sources import SourceError
from core.paths import default_db

COMMANDS = ("replay", "eval-video", "liveness-report")


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "replay", parents=[common], help="play a recorded video through the live loop and the door decision (simulated door)"
    )
    p.add_argument("video", type=Path)
    p.add_argument("--log", action="store_true", help="write the decisions to the access log (default: read-only)")
    p = sub.add_parser(
        "eval-video",
        parents=[common],
        help="replay a labelled recording through the door; per shot: named right / wrong / unknown",
    )
    p.add_argument("video", type=Path)
    p.add_argument("labels", type=Path, help="CSV: first,last,person[,left,top,right,bottom,live] per shot")
    p = sub.add_parser(
        "liveness-report",
        parents=[common],
        help="replay recorded genuine visits and attacks: APCER per attack folder, BPCER, each cue's pass rate",
    )
    p.add_argument("genuine", type=Path, help="videos of enrolled people coming to the door")
    p.add_argument("attacks", type=Path, help="videos of attacks: one subfolder per kind (phone, print, ...), or the videos")
    p.add_argument("--plot", type=Path, default=None, help="save a DET-style plot of the texture score as PNG")


def run(args: argparse.Namespace) -> int:
    if args.command == "liveness-report":
        return _liveness_report(args)
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


def _liveness_report(args: argparse.Namespace) -> int:
    from core.cli.common import progress_bar
    from core.gallery.api import Gallery
    from core.gallery.match import DEFAULT_THRESHOLD
    from core.live.loop import LiveSettings
    from core.station.liveness_report import liveness_report
    from core.tools.plots import save_det_plot

    db = args.db or default_db()
    if not Path(db).exists():
        raise StoreError(f"{db}: no gallery here (enroll the people of the genuine videos first, or give --db)")
    live = LiveSettings(threshold=args.threshold if args.threshold is not None else DEFAULT_THRESHOLD)
    with Gallery(db, readonly=True) as g:
        try:
            report = liveness_report(
                args.genuine, args.attacks, g, live, progress=lambda i, n, name: progress_bar(i, n, name, args.json)
            )
        except FileNotFoundError as exc:
            raise SourceError(str(exc)) from None
    if not args.json:
        print(file=sys.stderr)
    if args.plot:
        save_det_plot(report.det(), args.plot, "Screen and print check: texture score, one point a recording")
    say(args, report.as_dict(), report.text() + (f"\nDET plot: {args.plot}" if args.plot else ""))
    return 0
