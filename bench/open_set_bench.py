"""A generated open set from the shared photos: people enrolled from ONE photo each, probes from
other photos of other people (strangers) and of themselves (prints figures; never a test).

    .venv/bin/python bench/open_set_bench.py [--splits 200] [--seed 0] [--threshold 0.4] [--margin 0.05] [--photos 1]

Identities (one face each photo, largest face): the knn_examples people (train and test photos),
the single photos of Obama, Biden, Lin-Manuel and Alex Lacamoire, Obama's 2012 portrait, the eight
Microsoft Face people (16 portraits), the Silent-Face woman (her live photo and the phone screen
showing her), and the seven GRID talkers (frames 0, 37 and 74 of each clip; the GRID man's two
clips). In each split, half the identities (seeded) are enrolled from one random photo each, as a
Yale-like test does; every photo of the other half is a stranger probe, and every other photo of an
enrolled person a genuine probe (``--photos N``: N photos each, for people who have more than N;
what enroll-folder's advice quotes). Counted, as ``facegate identify`` decides (threshold and margin):

- strangers named (false accepts, FPIR: the share of stranger probes given any name),
- genuine probes named right / named wrong / unknown (FNIR = 1 - named right),
- the nearest stranger distances (how close a stranger comes to someone: the room under 0.4).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.one_photo_bench import FOOTAGE, video_frames  # noqa: E402

FACES = Path("/work/shared/data/faces")


def photos(footage: Path) -> list[tuple[str, object]]:
    """(identity, image) pairs."""
    out: list[tuple[str, object]] = []
    knn = FACES / "knn_examples"
    for person in sorted((knn / "train").iterdir()):
        out += [(person.name, p) for p in sorted(person.iterdir())]
    tests = {"alex_lacamoire1.jpg": "alex_lacamoire", "johnsnow_test1.jpg": "kit_harington", "obama1.jpg": "obama"}
    out += [(who, knn / "test" / f) for f, who in tests.items()]
    images = FACES / "images"
    out += [("obama", images / f) for f in ("obama.jpg", "obama2.jpg", "obama3.jpg")]
    out += [
        ("biden", images / "biden.jpg"),
        ("lin_manuel_miranda", images / "lin-manuel-miranda.png"),
        ("alex_lacamoire", images / "alex-lacamoire.png"),
        ("obama", footage / "obama-portrait-pd" / "obama_official_portrait_2012.jpg"),
    ]
    for f in sorted((footage / "ms-face-stills").glob("Family*.jpg")):
        out.append((f.stem[:-1].lower(), f))
    out += [("pad_woman", footage / "silent-face-pad" / f) for f in ("image_T1.jpg", "image_F2.jpg")]
    grid = {
        "id2_vcd_swwp2s": "grid_a",
        "pwij3p": "grid_a",
        "bbaf2n": "grid_b",
        "brbk7n": "grid_c",
        "lbax4n": "grid_d",
        "lwbsza": "grid_e",
        "swiz3n": "grid_f",
        "sbwe5n": "grid_g",
    }
    for clip, who in grid.items():
        frames = video_frames(footage / "grid-talkers" / f"{clip}.mpg")
        out += [(who, frames[i]) for i in (0, 37, 74)]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--footage", type=Path, default=FOOTAGE)
    ap.add_argument("--splits", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threshold", type=float, default=None)
    ap.add_argument("--margin", type=float, default=None)
    ap.add_argument("--photos", type=int, default=1, help="photos enrolled per person (people with more than this)")
    args = ap.parse_args()

    from core.gallery.api import Gallery
    from core.gallery.match import DEFAULT_MARGIN, DEFAULT_THRESHOLD, best_match
    from core.records import Candidate
    from core.vision.describe import Describer
    from core.vision.detection import Detector
    from core.vision.images import load_image

    threshold = DEFAULT_THRESHOLD if args.threshold is None else args.threshold
    margin = DEFAULT_MARGIN if args.margin is None else args.margin
    describer = Describer()
    with tempfile.TemporaryDirectory() as tmp, Gallery(Path(tmp) / "d.db", describer=describer) as g:
        g.detector = Detector("yunet", 20)
        who, vecs = [], []
        for name, image in photos(args.footage):
            faces = [f for f in g.faces(load_image(image) if isinstance(image, Path) else image) if f.descriptor is not None]
            if faces:
                best = max(faces, key=lambda f: f.box.width)
                who.append(name)
                vecs.append(best.descriptor)
    v = np.array(vecs)
    dist = np.linalg.norm(v[:, None] - v[None], axis=2)
    people = sorted(set(who))
    idx = {p: [i for i, w in enumerate(who) if w == p] for p in people}
    print(
        f"{len(who)} photos of {len(people)} people with a usable face; {args.splits} splits, threshold {threshold}, "
        f"margin {margin}"
    )
    rng = random.Random(args.seed)
    fa = probes_s = right = wrong = unknown = probes_g = 0
    within = 0
    nearest_strangers: list[float] = []
    for _ in range(args.splits):
        enrolled = rng.sample(people, len(people) // 2)
        samples = {p: rng.sample(idx[p], min(args.photos, len(idx[p]) - 1) or 1) for p in enrolled}
        ids = {p: k for k, p in enumerate(enrolled)}

        def match(i: int, samples=samples, ids=ids):
            cands = sorted(
                (Candidate(ids[p], p, float(dist[i, s].min()), s[0]) for p, s in samples.items()), key=lambda c: c.distance
            )
            return best_match(cands, threshold, margin)

        for p in people:
            for i in idx[p]:
                if p not in samples:
                    m = match(i)
                    probes_s += 1
                    fa += m.matched
                    within += (m.distance or 9) <= threshold
                    nearest_strangers.append(m.distance or 9)
                elif i not in samples[p] and len(idx[p]) > args.photos:
                    m = match(i)
                    probes_g += 1
                    right += m.name == p
                    wrong += m.matched and m.name != p
                    unknown += not m.matched
    p = within / max(1, probes_s)
    ns = np.array(nearest_strangers)
    print(f"strangers named (false accepts): {fa} of {probes_s} stranger probes (FPIR {fa / max(1, probes_s):.4f})")
    print(
        f"genuine probes: named right {right}, wrong {wrong}, unknown {unknown} of {probes_g} "
        f"(FNIR {1 - right / max(1, probes_g):.3f})"
    )
    print(
        f"nearest stranger distance: min {ns.min():.3f}, 1st percentile {np.percentile(ns, 1):.3f}, "
        f"5th {np.percentile(ns, 5):.3f}, median {np.median(ns):.3f}; share within the threshold p = {p:.4f}"
    )
    for t in (0.45, 0.5, 0.55):
        print(f"  strangers within {t}: {float(np.mean(ns <= t)):.4f}")


if __name__ == "__main__":
    main()
