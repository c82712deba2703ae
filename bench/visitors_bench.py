"""Unknown-visitor events per looped play of the clip, before and after grouping (prints figures).

    .venv/bin/python bench/visitors_bench.py [--loops 5]

Nobody is enrolled; the clip plays as one looping camera (the live pipeline, a DoorDecider). Per
loop: the Unknown entries written to the access log (the door logs every visit), how many of them
were a new stranger *before* grouping (every one: each Unknown was a stranger of its own), and
*after* it: the new visitors the loop created, and the visitors and visits so far.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loops", type=int, default=5)
    args = parser.parse_args()

    from core.door.decide import DoorDecider
    from core.door.verdict import Verdict
    from core.gallery.api import Gallery
    from core.live.loop import LiveRecognizer
    from core.live.worker import InlineWorker
    from tests.support.data import clip_frames

    clip = clip_frames()
    with tempfile.TemporaryDirectory() as folder, Gallery(Path(folder) / "gallery.db") as gallery:
        decider = DoorDecider(gallery, None)
        rec = LiveRecognizer(gallery, descriptor_worker=InlineWorker(gallery.describer), decider=decider)
        seen: set[int] = set()
        logged = 0
        t = 0.0
        print("loop  Unknown logged  new strangers before  new visitors after  visitors  visits")
        try:
            for loop in range(1, args.loops + 1):
                for rgb in clip:
                    rec.process(rgb, t)
                    t += 1 / 30
                decider.flush()
                unknown = len(decider.access_log.events(verdict=Verdict.UNKNOWN, limit=None))
                visitors = decider.visitors.all()
                new = {v.id for v in visitors} - seen
                seen |= new
                print(
                    f"{loop:>4}  {unknown - logged:>14}  {unknown - logged:>20}  {len(new):>18}  {len(visitors):>8}  "
                    f"{sum(v.visits for v in visitors):>6}"
                )
                logged = unknown
        finally:
            rec.close()
            decider.close()
        print("visitors:", ", ".join(f"#{v.id} {v.visits} visits, {v.faces} faces kept" for v in decider.visitors.all()))


if __name__ == "__main__":
    main()
