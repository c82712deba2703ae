"""A generated open set from the shared photos: people enrolled from ONE photo each, probes from
other photos of other people (strangers) and of themselves (prints figures; never a test).

    .venv/bin/python bench/open_set_bench.py [--splits 200] [--seed 0] [--threshold 0.4] [--margin 0.05] [--photos 1]
                                             [--sizes 10,100,1000,10000] [--scaled-splits 40] [--fpir 0.01]

Identities (one face each photo, largest face): the knn_examples people (train and test photos),
the single photos of Obama, Biden, Lin-Manuel and Alex Lacamoire, Obama's 2012 portrait, the eight
Microsoft Face people (16 portraits), the Silent-Face woman (her live photo and the phone screen
showing her), and the seven GRID talkers (frames 0, 37 and 74 of each clip; the GRID man's two
clips). In each split, half the identities (seeded) are enrolled from one random photo each, as a
Yale-like test does; every photo of the other half is a stranger probe, and every other photo of an
enrolled person a genuine probe (``--photos N``: N photos each, for people who have more than N;
what enroll-folder's advice quotes). An enrolled photo gives its own sample and its views
(core.gallery.photo_views, as Gallery.enroll keeps them; ``--views none``: the photo alone); a
probe is one descriptor, as the door makes it. Counted, as ``facegate identify`` decides (threshold and margin):

- strangers named (false accepts, FPIR: the share of stranger probes given any name),
- genuine probes named right / named wrong / unknown (FNIR = 1 - named right),
- the nearest stranger distances (how close a stranger comes to someone: the room under 0.4).

Then the same at growing gallery sizes N (``--sizes``), NIST 1:N style: in each split 8 real people
(with a second photo to probe) are enrolled from one photo each, and N - 8 *synthetic* distractor
identities fill the gallery (real people by their photo's descriptor alone: no views). The shared
data hold only ~22 real people, so the distractors are drawn, not found: a Gaussian over identities fitted to the real descriptors (the spread of the
people's mean descriptors, shrunk half-way to isotropic because 22 people cannot fill 128
dimensions) plus a photo's own deviation (the spread of each person's photos around their mean),
its identity spread scaled so that distractors sit as far from real photos, at the median, as real
people do from each other (both distributions are printed: how real the distractors look at the
close end is what decides FPIR). Jittered copies of real descriptors were not used: they are
near-twins of the people enrolled and would measure twins, not crowds. Per N: FPIR and FNIR at the
defaults, and FNIR at the threshold where FPIR meets ``--fpir``, that threshold chosen on the even
splits and both rates measured on the odd ones (the threshold is never scored on the splits that
picked it).
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

from bench.one_photo_bench import FOOTAGE, VIEWS_HELP, video_frames, views_arg  # noqa: E402

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
    ap.add_argument("--sizes", default="10,100,1000,10000", help="gallery sizes N for the scaled table ('' to skip it)")
    ap.add_argument("--scaled-splits", type=int, default=40, help="splits for the scaled table")
    ap.add_argument("--fpir", type=float, default=0.01, help="the FPIR the scaled table's threshold is chosen for")
    ap.add_argument("--views", type=views_arg, default=None, help=VIEWS_HELP)
    args = ap.parse_args()

    from core.gallery.api import Gallery
    from core.gallery.match import DEFAULT_MARGIN, DEFAULT_THRESHOLD
    from core.gallery.photo_views import VIEW_WIDTHS, camera_views
    from core.vision.describe import Describer
    from core.vision.detection import Detector
    from core.vision.images import load_image

    threshold = DEFAULT_THRESHOLD if args.threshold is None else args.threshold
    margin = DEFAULT_MARGIN if args.margin is None else args.margin
    describer = Describer()
    with tempfile.TemporaryDirectory() as tmp, Gallery(Path(tmp) / "d.db", describer=describer) as g:
        g.detector = Detector("yunet", 20)
        who, vecs, enrolled_as = [], [], []
        for name, image in photos(args.footage):
            rgb = load_image(image) if isinstance(image, Path) else image
            faces = [f for f in g.faces(rgb) if f.descriptor is not None]
            if faces:
                best = max(faces, key=lambda f: f.box.width)
                who.append(name)
                vecs.append(best.descriptor)
                views = camera_views(describer, rgb, best.box, VIEW_WIDTHS if args.views is None else args.views)
                enrolled_as.append(np.stack([best.descriptor] + [view.descriptor for view in views]))
    v = np.array(vecs)
    one_photo_figures(who, v, enrolled_as, args, threshold, margin)
    sizes = [int(n) for n in args.sizes.split(",") if n.strip()]
    if sizes:
        scaled_figures(who, v, sizes, args, threshold, margin)


def one_photo_figures(
    who: list[str], v: np.ndarray, enrolled_as: list[np.ndarray], args: argparse.Namespace, threshold: float, margin: float
) -> None:
    """Half the real people enrolled from one photo each per split (the photo's sample and its
    views, as Gallery.enroll keeps them; the probe is the photo's one descriptor, as the door makes
    it): strangers named, FNIR."""
    from core.gallery.match import best_match
    from core.records import Candidate

    # dist[probe, enrolled]: the probe photo's descriptor to the nearest sample the enrolled photo gave
    dist = np.stack([np.linalg.norm(samples[None] - v[:, None], axis=2).min(axis=1) for samples in enrolled_as], axis=1)
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


ENROLLED = 8  # real people enrolled per split in the scaled table (one photo each)


def distractor_model(who: list[str], v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The mean descriptor, and Cholesky factors of the identity spread and a photo's own spread
    (each covariance shrunk half-way to isotropic: a few dozen descriptors cannot fill 128 dimensions)."""
    people = sorted(set(who))
    groups = [v[[i for i, w in enumerate(who) if w == p]] for p in people]
    means = np.stack([g.mean(axis=0) for g in groups])
    own = np.concatenate([g - g.mean(axis=0) for g in groups if len(g) > 1])

    def shrunk(x: np.ndarray) -> np.ndarray:
        c = np.cov(x, rowvar=False)
        return 0.5 * c + 0.5 * np.trace(c) / len(c) * np.eye(len(c))

    return means.mean(axis=0), np.linalg.cholesky(shrunk(means)), np.linalg.cholesky(shrunk(own))


def draw(model: tuple[np.ndarray, np.ndarray, np.ndarray], n: int, scale: float, rng: np.random.Generator) -> np.ndarray:
    """``n`` synthetic one-photo identities."""
    mean, identity, photo = model
    dim = len(mean)
    return mean + scale * rng.standard_normal((n, dim)) @ identity.T + rng.standard_normal((n, dim)) @ photo.T


def pairwise(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None] - 2 * a @ b.T
    return np.sqrt(np.maximum(sq, 0))


def calibrate(model: tuple[np.ndarray, np.ndarray, np.ndarray], who: list[str], v: np.ndarray) -> tuple[float, np.ndarray]:
    """The identity-spread scale at which distractors sit as far from the real photos, at the
    median, as real people sit from each other; and the real impostor distances."""
    d = pairwise(v, v)
    other = np.array(who)[:, None] != np.array(who)[None]
    real = d[other]
    rng = np.random.default_rng(12345)
    lo, hi = 0.1, 4.0
    for _ in range(30):
        mid = (lo + hi) / 2
        if np.median(pairwise(v, draw(model, 2000, mid, rng))) < np.median(real):
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2, real


def scaled_figures(
    who: list[str], v: np.ndarray, sizes: list[int], args: argparse.Namespace, threshold: float, margin: float
) -> None:
    """FPIR and FNIR as the gallery grows to N identities (8 real, N - 8 synthetic)."""
    model = distractor_model(who, v)
    scale, real = calibrate(model, who, v)
    rng = np.random.default_rng(args.seed)
    synthetic = pairwise(v, draw(model, 5000, scale, rng)).ravel()
    q = (0.1, 1, 5, 50)
    print(
        f"\nScaled to N identities: {ENROLLED} real people enrolled from one photo each, N - {ENROLLED} synthetic "
        f"distractors (identity spread x{scale:.2f}); {args.scaled_splits} splits, threshold chosen on the even ones"
    )
    print(
        "distance to a real photo, percentiles "
        + "/".join(f"{x:g}" for x in q)
        + f": real other people {' / '.join(f'{np.percentile(real, x):.3f}' for x in q)}; "
        f"distractors {' / '.join(f'{np.percentile(synthetic, x):.3f}' for x in q)}"
    )
    people = sorted(set(who))
    idx = {p: [i for i, w in enumerate(who) if w == p] for p in people}
    twice = [p for p in people if len(idx[p]) > 1]
    grid = np.round(np.arange(0.20, 0.6001, 0.0025), 4)
    print(
        f"{'N':>6}  {'FPIR@' + str(threshold):>10}  {'FNIR@' + str(threshold):>10}  {'threshold':>9}  "
        f"{'FPIR':>7}  {'FNIR':>7}  (FPIR target {args.fpir:g}; held-out splits)  probes strangers/genuine"
    )
    for n in sizes:
        picked = random.Random(args.seed)
        halves: list[dict[str, list[np.ndarray]]] = [{"stranger": [], "genuine": []}, {"stranger": [], "genuine": []}]
        for split in range(args.scaled_splits):
            enrolled = picked.sample(twice, min(ENROLLED, n, len(twice)))
            sample = {p: picked.choice(idx[p]) for p in enrolled}
            gallery = np.concatenate([v[[sample[p] for p in enrolled]], draw(model, max(0, n - len(enrolled)), scale, rng)])
            probes = [(i, p) for p in people for i in idx[p] if p not in sample or i != sample[p]]
            d = pairwise(v[[i for i, _ in probes]], gallery)
            two = np.partition(d, 1, axis=1)[:, :2] if d.shape[1] > 1 else np.c_[d, np.full(len(d), np.inf)]
            first = np.argmin(d, axis=1)
            gap = two[:, 1] - two[:, 0]
            for row, (_, p) in enumerate(probes):
                kind = "genuine" if p in sample else "stranger"
                right = kind == "genuine" and first[row] == enrolled.index(p)
                halves[split % 2][kind].append(np.array([two[row, 0], gap[row], right]))

        def rates(half: dict[str, list[np.ndarray]], t: float) -> tuple[float, float]:
            s, g = np.array(half["stranger"]), np.array(half["genuine"])
            named_s = (s[:, 0] <= t) & (s[:, 1] >= margin)
            right_g = (g[:, 0] <= t) & (g[:, 1] >= margin) & (g[:, 2] > 0)
            return float(named_s.mean()), float(1 - right_g.mean())

        both = {k: halves[0][k] + halves[1][k] for k in ("stranger", "genuine")}
        fpir0, fnir0 = rates(both, threshold)
        ok = [t for t in grid if rates(halves[0], t)[0] <= args.fpir]
        t_pick = max(ok) if ok else float(grid[0])
        fpir, fnir = rates(halves[1], t_pick)
        print(
            f"{n:>6}  {fpir0:>10.4f}  {fnir0:>10.3f}  {t_pick:>9.4f}  {fpir:>7.4f}  {fnir:>7.3f}  "
            f"{'':>36}{len(both['stranger'])}/{len(both['genuine'])}"
        )


if __name__ == "__main__":
    main()
