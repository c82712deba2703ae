"""Run as a separate process by test_kill.py: enroll (or delete) people in a loop, printing a
line after each committed change, until killed."""
from __future__ import annotations

import sys

import numpy as np

from core.gallery import Gallery
from core.store import NewSample

SAMPLES_PER_PERSON = 6


def main(db: str, start: int, mode: str) -> None:
    g = Gallery(db)
    rng = np.random.default_rng(start)
    i = start
    while True:
        if mode == "delete" and g.people():
            victim = g.people()[0].name
            print(f"removing {victim}", flush=True)
            g.remove(victim)
            print(f"removed {victim}", flush=True)
        else:
            name = f"person-{i:05d}"
            samples = [NewSample(rng.normal(0, 0.2, 128).astype(np.float32), b"\xff\xd8thumb" * 50, f"cam{j}")
                       for j in range(SAMPLES_PER_PERSON)]
            g.enroll_samples(name, samples)
            print(f"committed {name}", flush=True)
            i += 1


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else "enroll")
