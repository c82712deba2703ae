"""The distance at which two faces are different people: the line the review queue will not cross
without an admin (core.gallery.plausible.DIFFERENT_PEOPLE).

    .venv/bin/python bench/different_people_bench.py

Pairs of faces of the same person against pairs of different people, both from real photos and
video frames with known identities. The line is picked on one half of the shared data and
checked on the other, which it was not picked on:

- pick: /work/shared/data/faces (tests/data): the face_recognition photos (obama, biden, alex
  lacamoire, kit harington, rose leslie; lin-manuel miranda's photo) and the clip (Lin-Manuel's
  big shot against his photo; the stranger after him);
- check: /work/shared/data/footage: Microsoft's portraits (8 people, 2-3 photos each), the GRID
  talkers (7 people, one man in two recordings), Obama's official portrait (against the obama
  photos above), the Silent-Face woman (a stranger to all of them).

The picked line is the equal-error distance of the first half: as many same-person pairs lie
beyond it as different-people pairs within it, rounded to 0.05. Printed for both halves: how the
pairs spread, how many same-person pairs lie beyond the line (an admin would have to force
those), and how many different-people pairs within it (an operator would be asked to confirm
those, looking at both faces; none is ever added silently, as that needs the 0.4 threshold).
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.gallery.plausible import DIFFERENT_PEOPLE  # noqa: E402
from core.vision.describe import Describer  # noqa: E402
from core.vision.detection import Detector  # noqa: E402
from core.vision.images import load_image  # noqa: E402
from tests.support.data import IMAGES, KNN, clip_frames  # noqa: E402
from tests.support.window import LIN_FRAMES, OTHER_FRAMES  # noqa: E402

FOOTAGE = Path("/work/shared/data/footage")
SAME_PHOTO = 0.05  # closer than this: the same photo again (a resized copy), not a second photo
FRAMES_PER_VIDEO = 6  # frames of each video identity, spread over the shot


Face = tuple[str, str, np.ndarray]  # (person, source: a photo or a video file, descriptor)


def largest(detector: Detector, describer: Describer, rgb: np.ndarray) -> np.ndarray | None:
    found = detector.find(rgb)
    if not found:
        return None
    return describer.describe(rgb, max(found, key=lambda d: d.box.area)).descriptor


def photos(detector: Detector, describer: Describer, person: str, files: list[Path]) -> list[Face]:
    """One face per distinct photo (a resized copy of a photo already taken is skipped)."""
    kept: list[Face] = []
    for f in files:
        d = largest(detector, describer, load_image(f))
        if d is not None and all(np.linalg.norm(d - k) > SAME_PHOTO for _, _, k in kept):
            kept.append((person, str(f), d))
    return kept


def video(
    detector: Detector, describer: Describer, person: str, source: str, frames: list[np.ndarray], wanted: range | None = None
) -> list[Face]:
    """FRAMES_PER_VIDEO faces of one person, spread over their shot."""
    wanted = wanted or range(len(frames))
    picks = np.linspace(wanted.start, wanted.stop - 1, FRAMES_PER_VIDEO).astype(int)
    return [(person, source, d) for i in picks if (d := largest(detector, describer, frames[i])) is not None]


Pair = tuple[float, str, str]  # distance, and the two faces (person: source)


def pairs(faces: list[Face]) -> tuple[list[Pair], list[Pair]]:
    """Same-person pairs (between two different sources only: the frames of one video are too
    alike to count) and different-people pairs."""
    same, different = [], []
    for (p, s, a), (q, t, b) in itertools.combinations(faces, 2):
        pair = (float(np.linalg.norm(a - b)), f"{p}: {Path(s).name}", f"{q}: {Path(t).name}")
        if p != q:
            different.append(pair)
        elif s != t:
            same.append(pair)
    return same, different


def equal_error(same: list[Pair], different: list[Pair]) -> float:
    """The distance where the share of same-person pairs beyond it equals the share of
    different-people pairs within it (the middle of the range where they are equal: the middle
    of the gap when no pair is on the wrong side)."""
    s, d = np.array([p[0] for p in same]), np.array([p[0] for p in different])
    grid = np.arange(0.30, 0.90, 0.001)
    gap = np.abs(np.array([np.mean(s > t) for t in grid]) - np.array([np.mean(d <= t) for t in grid]))
    return float(np.median(grid[gap == gap.min()]))


def report(title: str, same: list[Pair], different: list[Pair], line: float) -> None:
    s, d = np.array([p[0] for p in same]), np.array([p[0] for p in different])
    print(f"{title}: {len(s)} same-person pairs, {len(d)} different-people pairs")
    print(
        f"  same person:      median {np.median(s):.3f}, 95th pct {np.percentile(s, 95):.3f}, "
        f"99th pct {np.percentile(s, 99):.3f}, max {s.max():.3f}"
    )
    print(
        f"  different people: min {d.min():.3f}, 1st pct {np.percentile(d, 1):.3f}, "
        f"5th pct {np.percentile(d, 5):.3f}, median {np.median(d):.3f}"
    )
    print(f"  equal-error distance {equal_error(same, different):.3f}")
    print(
        f"  at the line {line:.2f}: same-person pairs beyond it {np.sum(s > line)} of {len(s)} "
        f"({100 * np.mean(s > line):.1f} %: an admin would force these); different-people pairs within it "
        f"{np.sum(d <= line)} of {len(d)} ({100 * np.mean(d <= line):.1f} %: an operator is asked to confirm "
        f"these, looking at both faces); different-people pairs within the 0.4 threshold: {np.sum(d <= 0.4)}"
    )
    print("  farthest same-person pairs: " + "; ".join(f"{x:.3f} {a} / {b}" for x, a, b in sorted(same)[-3:]))
    print("  nearest different-people pairs: " + "; ".join(f"{x:.3f} {a} / {b}" for x, a, b in sorted(different)[:4]))


def main() -> None:
    detector, describer = Detector(), Describer()
    # the half the line is picked on
    train, test = KNN / "train", KNN / "test"
    people = {
        "obama": [IMAGES / n for n in ("obama.jpg", "obama2.jpg", "obama3.jpg", "obama_small.jpg")]
        + sorted((train / "obama").iterdir())
        + [test / "obama1.jpg"],
        "biden": [IMAGES / "biden.jpg", *sorted((train / "biden").iterdir())],
        "alex": [IMAGES / "alex-lacamoire.png", *sorted((train / "alex_lacamoire").iterdir()), test / "alex_lacamoire1.jpg"],
        "kit": [*sorted((train / "kit_harington").iterdir()), test / "johnsnow_test1.jpg"],
        "rose": sorted((train / "rose_leslie").iterdir()),
        "lin": [IMAGES / "lin-manuel-miranda.png"],
    }
    pick = [face for person, files in people.items() for face in photos(detector, describer, person, files)]
    clip = clip_frames()
    pick += video(detector, describer, "lin", "clip", clip, LIN_FRAMES)
    pick += video(detector, describer, "clip stranger", "clip", clip, OTHER_FRAMES)
    same, different = pairs(pick)
    line = round(equal_error(same, different) / 0.05) * 0.05
    print(
        f"picked on /work/shared/data/faces: the equal-error distance, rounded to 0.05: {line:.2f} "
        f"(core.gallery.plausible.DIFFERENT_PEOPLE = {DIFFERENT_PEOPLE:g})"
    )
    report("faces (picked on)", same, different, line)

    # the half it is checked on (the obama portrait against the obama photos above as well)
    check: list[Face] = []
    ms: dict[str, list[Path]] = {}
    for f in sorted((FOOTAGE / "ms-face-stills").glob("Family*.jpg")):
        ms.setdefault(f.stem.rstrip("0123456789"), []).append(f)
    for person, files in ms.items():
        check += photos(detector, describer, person, files)
    for clip_file in sorted((FOOTAGE / "grid-talkers").glob("*.mpg")):
        person = "grid A" if clip_file.stem in ("id2_vcd_swwp2s", "pwij3p") else f"grid {clip_file.stem}"
        check += video(detector, describer, person, clip_file.name, clip_frames(clip_file))
    check += photos(detector, describer, "silent-face woman", [FOOTAGE / "silent-face-pad" / "image_T1.jpg"])
    same_c, different_c = pairs(check)
    for _, source, d in photos(
        detector, describer, "obama", [FOOTAGE / "obama-portrait-pd" / "obama_official_portrait_2012.jpg"]
    ):
        for person, other_source, other in pick:
            pair = (float(np.linalg.norm(d - other)), f"obama: {Path(source).name}", f"{person}: {Path(other_source).name}")
            (same_c if person == "obama" else different_c).append(pair)
    report("footage (checked on)", same_c, different_c, line)


if __name__ == "__main__":
    main()
