"""The process test_faults_kill.py kills: enroll (or delete) people in a loop, printing a line
after each committed change, until SIGKILLed.

Run as ``enroll_child.py --server``, it is a fork server: it imports FaceGate once, then for
each request line ``DB START MODE OUTFILE`` forks a child that runs the loop with its output in
OUTFILE and answers ``pid N``; ``reap N`` waits for that child and answers ``status N SIGNAL``
(the signal that ended it, 0 if it exited). Forking skips the ~1 s interpreter start per kill,
so 100 kills take about a minute, and the parent never opens a database itself.
"""

from __future__ import annotations

import os
import sys
import time
import traceback

import numpy as np

from core.gallery.api import Gallery
from core.gallery.store import NewSample

SAMPLES_PER_PERSON = 6


def main(db: str, start: int, mode: str) -> None:
    g = Gallery(db)
    rng = np.random.default_rng(start)
    i = start
    while True:
        if mode == "delete":
            people = g.people()
            if not people:  # all gone: wait for the kill (never enroll here, names would come back)
                time.sleep(0.01)
                continue
            victim = people[0].name
            print(f"removing {victim}", flush=True)
            g.remove(victim)
            print(f"removed {victim}", flush=True)
        else:
            name = f"person-{i:05d}"
            samples = [
                NewSample(rng.normal(0, 0.2, 128).astype(np.float32), b"\xff\xd8thumb" * 50, f"cam{j}")
                for j in range(SAMPLES_PER_PERSON)
            ]
            print(f"enrolling {name}", flush=True)
            g.enroll_samples(name, samples)
            print(f"committed {name}", flush=True)
            i += 1


def serve() -> None:
    for line in sys.stdin:
        words = line.split()
        if words[0] == "reap":
            pid = int(words[1])
            _, status = os.waitpid(pid, 0)
            print(f"status {pid} {os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0}", flush=True)
            continue
        db, start, mode, outfile = words
        pid = os.fork()
        if pid == 0:
            fd = os.open(outfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115 -- the child's stdout until os._exit
            sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115 -- the child's stderr until os._exit
            try:
                main(db, int(start), mode)
            except BaseException:
                traceback.print_exc()
            os._exit(1)
        print(f"pid {pid}", flush=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["--server"]:
        serve()
    else:
        main(sys.argv[1], int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else "enroll")
