"""Live enrollment on the clip, with and without re-acquisition, at 30 and 12 frames a second
(prints figures; never a timed test).

    .venv/bin/python bench/enroll_bench.py [--fps 30 12]

The window's live loop (LiveRecognizer; descriptors computed in-process, so that frames need not
be paced to wait for the worker process, which in the window hands them back a frame later)
plays the clip as a looping camera. At 12 fps the camera's frames come 1/12 s apart and the
others are dropped, as in the window on a loaded 2-core machine. Lin-Manuel is clicked at each
of several moments of his shots (every 8th frame from 84 to 204, counted in the clip) and the
enrollment runs until it ends or 20 s of video have passed. Outcomes: saved by itself (5
samples), offered (he left with 3-4 samples: the operator can save them), failed (nothing saved).
"Before" is the old rule, emulated with the settings: no re-acquisition (enroll_rejoin 0), and
failing as soon as the face leaves (enroll_wait 0, enroll_min_keep above the 5 samples).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CLICKS = range(84, 205, 8)


def one(clip, fps: float, click: int, before: bool) -> str:
    from core.gallery.api import Gallery
    from core.live.loop import LiveRecognizer, LiveSettings
    from core.live.worker import InlineWorker

    settings = LiveSettings(enroll_rejoin=0.0, enroll_wait=0.0, enroll_min_keep=99) if before else LiveSettings()
    step = 30 / fps
    with tempfile.TemporaryDirectory() as folder, Gallery(Path(folder) / "gallery.db") as gallery:
        rec = LiveRecognizer(gallery, settings, descriptor_worker=InlineWorker(gallery.describer))
        try:
            n, started, last = 0, False, None
            while n / fps < 20:
                i = int(round(click + n * step)) % len(clip)  # the camera's frame at this moment
                result = rec.process(clip[i], n / fps)
                big = [t for t in result.tracks if t.box.width >= 60]
                if not started and big:
                    rec.start_enrollment(big[0].id, "Lin-Manuel")
                    started = True
                last = result.enrollment or last
                if last is not None and (last.done or last.error):
                    break
                n += 1
        finally:
            rec.close()
    if last is None:
        return "never started"
    if last.done:
        return "saved"
    if last.can_save:
        return "offered"
    return "failed"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fps", type=float, nargs="+", default=[30.0, 12.0])
    args = parser.parse_args()
    from tests.support.data import clip_frames

    clip = clip_frames()
    for fps in args.fps:
        for before in (True, False):
            outcomes = [one(clip, fps, click, before) for click in CLICKS]
            counts = Counter(outcomes)
            saved = counts["saved"] + counts["offered"]
            print(
                f"{fps:>4g} fps {'before' if before else 'after ':<6}: {saved} of {len(outcomes)} enrollments "
                f"end with samples saved or offered ({counts['saved']} saved by themselves, {counts['offered']} "
                f"offered, {counts['failed']} failed) - clicks at {list(CLICKS)}: {' '.join(o[0] for o in outcomes)}"
            )


if __name__ == "__main__":
    main()
