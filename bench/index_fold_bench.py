"""How long the index's folder holds the graph's write lock, and what a door waits meanwhile
(prints figures; never a timed test): a tail of N face-like samples, as a first sync leaves it
(core.site.sync first_pull), folded into the hnswlib graph hold by hold while a thread identifies.

    .venv/bin/python bench/index_fold_bench.py --samples 500000 --seconds 60

Each hold is one SampleIndex.fold_once, called here in a loop with the folder thread held still;
its wall time and its thread's CPU time are both printed: a hold whose CPU time is a few ms but
whose wall time is hundreds is a thread the machine did not run, not a chunk too big.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.gallery.index import SampleIndex  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=500_000, help="samples in the tail (5 a person)")
    parser.add_argument("--seconds", type=float, default=60.0, help="fold for this long at most")
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    centres = rng.normal(0, 0.06, (args.samples // 5, 128)).astype(np.float32)
    vectors = (np.repeat(centres, 5, axis=0) + rng.normal(0, 0.015, (len(centres) * 5, 128))).astype(np.float32)
    index = SampleIndex()
    index.reserve(len(vectors))
    waits: list[float] = []
    stop = threading.Event()

    def door() -> None:
        while not stop.is_set():
            t0 = time.perf_counter()
            index.knn(vectors[0], 64)  # what Gallery.candidates asks
            waits.append(time.perf_counter() - t0)
            time.sleep(0.01)

    holds: list[tuple[float, float, int]] = []  # (wall, CPU, samples moved)
    pauses, began = [], [0.0]  # the cyclic GC's collections meanwhile (each holds the GIL)

    def collecting(phase: str, info: dict) -> None:
        if phase == "start":
            began[0] = time.perf_counter()
        else:
            pauses.append(time.perf_counter() - began[0])

    gc.callbacks.append(collecting)
    with index.held():
        index.add(np.arange(len(vectors)), vectors)
        worker = threading.Thread(target=door)
        worker.start()
        started = time.perf_counter()
        while index.pending() and time.perf_counter() - started < args.seconds:
            t0, c0 = time.perf_counter(), time.thread_time()
            moved = index.fold_once()
            holds.append((time.perf_counter() - t0, time.thread_time() - c0, moved))
        folding = time.perf_counter() - started
        stop.set()
        worker.join()
    gc.callbacks.remove(collecting)
    wall = sorted(h[0] for h in holds)
    cpu = sorted(h[1] for h in holds)
    moved = sum(h[2] for h in holds)
    worst = max(holds)
    print(
        f"tail of {len(vectors):,} samples: {moved:,} folded into the graph in {folding:.0f} s ({moved / folding:,.0f}/s) "
        f"over {len(holds):,} holds; a hold's wall time median {1000 * statistics.median(wall):.1f} ms, p99 "
        f"{1000 * wall[int(0.99 * len(wall))]:.1f} ms, longest {1000 * worst[0]:.0f} ms ({worst[2]} samples, "
        f"{1000 * worst[1]:.1f} ms of CPU); its CPU time median {1000 * statistics.median(cpu):.1f} ms, longest "
        f"{1000 * cpu[-1]:.1f} ms; identify (k=64) meanwhile {len(waits)} times, median "
        f"{1000 * statistics.median(waits):.1f} ms, longest {1000 * max(waits):.0f} ms; {len(pauses)} cyclic GC "
        f"collections, the longest {1000 * max(pauses, default=0):.1f} ms",
        flush=True,
    )
    index.close()


if __name__ == "__main__":
    main()
