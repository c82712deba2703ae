"""Core figures: descriptor time, 1:N search time and recall@1 against exact search at 10k and
100k enrolled samples, and enroll-folder throughput. Prints medians of several runs.

    .venv/bin/python bench/core_bench.py [--sizes 10000 100000] [--queries 500]

Gallery vectors are face-like rather than uniform noise: people are random points on the
descriptor scale, each with several samples scattered around them (dlib descriptors of one
person sit ~0.2-0.4 apart), and queries are new samples of enrolled people, as at a door.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.gallery.api import Gallery  # noqa: E402
from core.gallery.index import IndexParams, SampleIndex  # noqa: E402
from core.vision.describe import Describer  # noqa: E402
from core.vision.detection import Detector  # noqa: E402
from core.vision.images import load_image  # noqa: E402

DATA = ROOT / "tests" / "data"


def timed(fn, repeat: int) -> float:
    """Median milliseconds of ``repeat`` calls."""
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t) * 1000)
    return statistics.median(runs)


def descriptor_figures() -> None:
    describer = Describer()
    rgb = load_image(DATA / "images" / "obama.jpg")
    box = Detector("hog").detect(rgb)[0]
    chip, _ = describer.chip(rgb, box)
    describer.descriptor_from_chip(chip)  # load the model first
    print(f"landmarks + aligned chip:      {timed(lambda: describer.chip(rgb, box), 50):7.2f} ms (median of 50)")
    print(f"descriptor from chip:          {timed(lambda: describer.descriptor_from_chip(chip), 50):7.2f} ms (median of 50)")
    frame = _clip_frame(150)
    for method in ("yunet", "haar+hog", "hog", "haar"):
        det = Detector(method, min_face=40)
        print(f"detect {method:<9} 640x360 frame: {timed(lambda det=det: det.detect(frame), 15):7.2f} ms (median of 15)")


def _clip_frame(i: int) -> np.ndarray:
    import cv2

    cap = cv2.VideoCapture(str(DATA / "video" / "short_hamilton_clip.mp4"))
    cap.set(cv2.CAP_PROP_POS_FRAMES, i)
    ok, frame = cap.read()
    cap.release()
    return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)


def face_like(n: int, per_person: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    people = n // per_person
    centres = rng.normal(0, 0.09, (people, 128)).astype(np.float32)
    owner = np.repeat(np.arange(people), per_person)
    vecs = centres[owner] + rng.normal(0, 0.02, (len(owner), 128)).astype(np.float32)
    return vecs, centres


def search_figures(sizes: list[int], queries: int) -> None:
    rng = np.random.default_rng(7)
    for n in sizes:
        vecs, centres = face_like(n, 5, rng)
        probes = centres[rng.integers(0, len(centres), queries)] + rng.normal(0, 0.02, (queries, 128)).astype(np.float32)
        index = SampleIndex(params=IndexParams())
        t = time.perf_counter()
        index.build(np.arange(len(vecs)), vecs)
        build_s = time.perf_counter() - t
        exact = [int(np.argmin(np.linalg.norm(vecs - p, axis=1))) for p in probes]
        found = [int(index.knn(p, 1)[0][0]) for p in probes]
        hits = sum(f == e for f, e in zip(found, exact, strict=True))
        same_person = sum(f // 5 == e // 5 for f, e in zip(found, exact, strict=True))
        hnsw_ms = timed(lambda index=index, probes=probes: [index.knn(p, 1) for p in probes[:100]], 5) / 100
        brute_ms = (
            timed(lambda vecs=vecs, probes=probes: [np.argmin(np.linalg.norm(vecs - p, axis=1)) for p in probes[:20]], 3) / 20
        )
        print(
            f"{n:>7} samples: build {build_s:6.1f} s (M={index.params.M}, ef_construction={index.params.ef_construction}), "
            f"1-NN query {hnsw_ms:.3f} ms vs exact numpy {brute_ms:.2f} ms ({brute_ms / hnsw_ms:.0f}x), "
            f"recall@1 vs exact {hits / queries:.4f} (same person {same_person / queries:.4f}) over {queries} queries"
        )


def enroll_figures(repeat: int = 3) -> None:
    train = DATA / "knn_examples" / "train"
    images = sorted(f for d in train.iterdir() for f in d.iterdir())
    describer = Describer()
    rates = []
    for _ in range(repeat):
        folder = Path(tempfile.mkdtemp())
        with Gallery(folder / "g.db", describer=describer) as g:
            t = time.perf_counter()
            for person in sorted(train.iterdir()):
                g.enroll(person.name, sorted(str(f) for f in person.iterdir()))
            rates.append(len(images) / (time.perf_counter() - t))
        shutil.rmtree(folder)
    print(
        f"enroll-folder (knn_examples/train, {len(images)} photos up to 2333x1434): "
        f"{statistics.median(rates):.2f} images/s (median of {repeat})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=500)
    args = parser.parse_args()
    descriptor_figures()
    enroll_figures()
    search_figures(args.sizes, args.queries)


if __name__ == "__main__":
    main()
