"""Scan and evaluation throughput: scanned video frames per second, evaluated photos per second,
and the time a scanned-face search takes. Prints medians of several runs.

    .venv/bin/python bench/scan_eval_bench.py [--runs 3] [--every 5]

Scan: the bundled clip (640x360, 275 frames) scanned every --every frames with the default scan
settings (YuNet, faces from 40 px), into a fresh gallery each run; frames/s counts scanned frames
(each detected; each face followed and its most frontal view per half second described), and also the clip's frames per second of wall time.
Eval: the knn_examples train folder (9 photos, 0.4-2.7 MP) described and evaluated (5 rounds).
Search: similar-face search with folding over the clip's scanned faces, and over --big synthetic
found faces of 20 people where every face folds under one of the 20 listed (the worst case: the
whole list is built); medians of repeated queries.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.gallery.api import Gallery  # noqa: E402
from core.tools.evaluate import describe_folder, evaluate  # noqa: E402
from core.tools.scan import ScanLibrary, ScanSettings  # noqa: E402
from core.vision.describe import Describer  # noqa: E402
from core.vision.detection import Detector  # noqa: E402

CLIP = ROOT / "tests" / "data" / "video" / "short_hamilton_clip.mp4"
TRAIN = ROOT / "tests" / "data" / "knn_examples" / "train"


def big_search_ms(lib: ScanLibrary, n: int) -> float:
    """Median time of a folded search over ``n`` face-like found faces: 20 people, each seen in
    many frames (descriptors ~0.1-0.3 apart, as consecutive frames of one person are)."""
    from core.gallery.store import now, pack

    rng = np.random.default_rng(0)
    people = rng.normal(0, 0.09, (20, 128)).astype(np.float32)
    vecs = people[rng.integers(0, 20, n)] + rng.normal(0, 0.012, (n, 128)).astype(np.float32)
    with lib.store.write("bench faces") as db:
        vid = db.execute(
            "INSERT INTO scan_videos(path, name, fps, frame_count, width, height, every, frames_scanned, "
            "complete, scanned) VALUES('bench', 'bench', 25, ?, 640, 360, 1, ?, 1, ?)",
            (n, n, now()),
        ).lastrowid
        db.conn.executemany(
            "INSERT INTO scan_faces(video_id, frame, time, left, top, right, bottom, descriptor) VALUES(?,?,?,0,0,90,90,?)",
            [(vid, i, i / 25, pack(v)) for i, v in enumerate(vecs)],
        )
    lib.similar(vecs[0])  # load the vectors once, as a page does
    times = []
    for q in range(20):
        t0 = time.perf_counter()
        lib.similar(people[q % 20], top=20)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--every", type=int, default=5)
    parser.add_argument("--big", type=int, default=20000, help="synthetic found faces for the large search")
    args = parser.parse_args()
    describer = Describer()
    describer.descriptor_from_chip(np.zeros((150, 150, 3), np.uint8))  # load the models outside the timing

    scanned_fps, clip_fps, search_ms = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            with Gallery(Path(tmp) / f"scan{run}.db", describer=describer) as g:
                lib = ScanLibrary(g)
                result = lib.scan(CLIP, ScanSettings(every=args.every))
                scanned_fps.append(result.frames_per_second)
                clip_fps.append(result.frames_read / result.seconds)
                query = lib.descriptor(lib.faces()[0].id)
                for _ in range(50):
                    t0 = time.perf_counter()
                    lib.similar(query, top=20)
                    search_ms.append((time.perf_counter() - t0) * 1000)
                faces = result.faces
    print(
        f"scan: {statistics.median(scanned_fps):.2f} scanned frames/s "
        f"({statistics.median(clip_fps):.1f} video frames/s at every {args.every}; {faces} faces found), "
        f"median of {args.runs} runs"
    )
    print(f"scanned-face search (top 20, folding 0.3, {faces} faces): {statistics.median(search_ms):.3f} ms median")
    with tempfile.TemporaryDirectory() as tmp, Gallery(Path(tmp) / "big.db", describer=describer) as g:
        print(
            f"scanned-face search over {args.big} faces (20 people x many near-duplicate frames): "
            f"{big_search_ms(ScanLibrary(g), args.big):.2f} ms median"
        )

    detector = Detector()  # as `facegate eval` detects (YuNet)
    photos_per_s, eval_ms = [], []
    for _ in range(args.runs):
        photos = describe_folder(TRAIN, describer, detector)
        photos_per_s.append(len(photos.images) / photos.seconds)
        t0 = time.perf_counter()
        evaluate(photos, rounds=5)
        eval_ms.append((time.perf_counter() - t0) * 1000)
    print(
        f"eval: {statistics.median(photos_per_s):.2f} images/s described "
        f"({len(photos.images)} photos), scoring 5 rounds {statistics.median(eval_ms):.1f} ms; "
        f"median of {args.runs} runs"
    )


if __name__ == "__main__":
    main()
