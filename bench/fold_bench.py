"""The liveness check alone, fed every frame, with and without the fold cues (outline and midline,
core.vision.liveness.FOLD_CUES): which attacks pass, which of Lin-Manuel's visits never do, how
late his turn passes, and each visit's outline and midline on its tenth-best turn frame.

    .venv/bin/python bench/fold_bench.py [--seeds 60] [--first-seed 0] [--cameras 30] [--first-camera 0] [--kinds folded curved]

Landmarks come from the 68-point model on YuNet boxes (the app's detector; for an attack, the
box over the drawn picture). His visits: both his big shots as one visit (frames 82-210) and his
second shot alone (120-210), as recorded and through ``--cameras`` simulated cameras.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FPS = 30.0


def landmarks(describer, detector, frames, around=None):
    """(frame index, 68 points or None) per frame: the largest face, or the one over ``around``."""
    out = []
    for i, rgb in enumerate(frames):
        boxes = detector.detect(rgb)
        if around is not None:
            boxes = [b for b in boxes if b.iou(around[i]) > 0.3]
            box = max(boxes, key=lambda b: b.iou(around[i]), default=None)
        else:
            box = max(boxes, key=lambda b: b.area, default=None)
        if box is None or box.width < 60:
            out.append((i, None))
            continue
        shape = describer.landmarks(rgb, box, 68)
        out.append((i, np.array([(p.x, p.y) for p in shape.parts()], float)))
    return out


def judge(seq, settings):
    """(frame where the check passed or None, the evidence of every turn frame)."""
    from core.vision.liveness import LivenessCheck

    check = LivenessCheck(None, settings)
    for i, points in seq:
        if points is not None and check.observe_points(points, i / FPS).passed:
            return i, check
    return None, check


def tenth_best(check, settings, field: str) -> float:
    """The cue on the tenth-best frame that shows parallax and bump (-1: fewer than ten)."""
    from core.vision.liveness import LivenessSettings

    turns = [t for _, t, *_ in check._seen if t is not None]
    if not turns:
        return -1.0
    noise = float(np.median([t.noise for t in turns]))
    need_p = max(settings.parallax, settings.noise_factor * noise)
    need_b = max(settings.bump, settings.noise_factor * noise / 2)
    vals = sorted((getattr(t, field) for t in turns if t.parallax >= need_p and t.bump >= need_b), reverse=True)
    need = LivenessSettings().turn_frames
    return vals[need - 1] if len(vals) >= need else -1.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=60)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--cameras", type=int, default=30)
    parser.add_argument("--first-camera", type=int, default=0)
    parser.add_argument("--kinds", nargs="+", default=["folded", "curved"])
    args = parser.parse_args()
    from core.tools.attacks import attack, through_camera
    from core.vision.describe import Describer
    from core.vision.detection import Detector
    from core.vision.liveness import FOLD_CUES, LivenessSettings
    from tests.support.data import clip_frames
    from tests.support.presentations import attack_photos, background

    describer, detector, clip = Describer(), Detector("yunet", 40), clip_frames()
    plain, cues = LivenessSettings(), LivenessSettings(**FOLD_CUES)
    # his visits, with the check never passing, to read every frame's evidence
    # (outline and midline asked at a bar every frame clears, so that every frame measures them)
    probe = LivenessSettings(turn_frames=10_000, blink=False, outline=1e-9, midline=1e-9)
    recordings = [("recorded", clip)]
    recordings += [
        (f"camera {c}", list(through_camera(clip[:213], c))) for c in range(args.first_camera, args.first_camera + args.cameras)
    ]
    visits = []
    for name, frames in recordings:
        seq = landmarks(describer, detector, frames[82:211])
        visits += [(f"{name}, both shots", seq), (f"{name}, second shot", seq[120 - 82 :])]
    print(f"{len(visits)} genuine visits ({args.cameras} cameras from {args.first_camera})")
    for label, s in (("without", plain), ("with", cues)):
        passed = [judge(seq, s)[0] for _, seq in visits]
        never = [n for (n, _), p in zip(visits, passed, strict=True) if p is None]
        both = sorted(p + 82 for (n, _), p in zip(visits, passed, strict=True) if p is not None and n.endswith("both shots"))
        print(
            f"  {label} the fold cues: {len(never)} never pass {never}; both shots pass at clip frame "
            f"{both[len(both) // 2] if both else '-'} (median), {both[0] if both else '-'}-{both[-1] if both else '-'}"
        )
    for field in ("outline", "midline"):
        v = [tenth_best(judge(seq, probe)[1], probe, field) for _, seq in visits]
        print(f"  {field} on the tenth-best turn frame: {min(v):.3f}-{max(v):.3f} (median {np.median(v):.3f})")
    photos = attack_photos(describer, clip)
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    for kind in args.kinds:
        seqs = {}
        for seed in seeds:
            shown, it = attack(kind, photos[seed % len(photos)], background(clip, seed), seed, 120)
            drawn = list(it)
            seqs[seed] = (shown, landmarks(describer, detector, [f.rgb for f in drawn], [f.face for f in drawn]))
        alive = {seed: (shown, seq) for seed, (shown, seq) in seqs.items() if judge(seq, plain)[0] is not None}
        still = [seed for seed, (_, seq) in alive.items() if judge(seq, cues)[0] is not None]
        print(
            f"{kind} (seeds {seeds.start}-{seeds.stop - 1}): {len(alive)} pass without the fold cues, {len(still)} with {still}"
        )
        for seed, (shown, seq) in alive.items():
            check = judge(seq, probe)[1]
            print(
                f"  seed {seed} ({shown.source}, {shown.bend}): outline {tenth_best(check, probe, 'outline'):.3f}, "
                f"midline {tenth_best(check, probe, 'midline'):.3f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
