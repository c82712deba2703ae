"""SIGKILL a process at random moments of enrolling and of deleting, 100 times each: every
committed change is there, no person is half-written, and the index (vectors included) agrees
with the database after each kill. FACEGATE_KILL_ROUNDS changes the count (default 100)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from core.gallery.api import Gallery
from core.gallery.store import NewSample
from tests.support.data import ROOT, SUPPORT
from tests.support.enroll_child import SAMPLES_PER_PERSON

ROUNDS = int(os.environ.get("FACEGATE_KILL_ROUNDS", "100"))
GALLERY_FOR_DELETION = 200


class ForkServer:
    """tests/enroll_child.py --server: forks the process to kill, so a kill costs no interpreter start."""

    def __init__(self, tmp: Path) -> None:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(SUPPORT)]), OPENBLAS_NUM_THREADS="1")
        self.tmp = tmp
        self.proc = subprocess.Popen(
            [sys.executable, str(SUPPORT / "enroll_child.py"), "--server"],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.n = 0

    def _ask(self, line: str) -> list[str]:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().split()
        assert answer, "the fork server died"
        return answer

    def run_and_kill(self, db: Path, start: int, mode: str, delay: float) -> list[str]:
        """Start the loop in a fresh child, SIGKILL it after ``delay`` s; the lines it printed."""
        self.n += 1
        out = self.tmp / f"child-{self.n}.out"
        out.touch()  # a kill may land before the child has opened it
        pid = int(self._ask(f"{db} {start} {mode} {out}")[1])
        time.sleep(delay)
        os.kill(pid, signal.SIGKILL)
        status = self._ask(f"reap {pid}")
        lines = out.read_text().splitlines()
        assert int(status[2]) == signal.SIGKILL, "the child ended before the kill:\n" + "\n".join(lines[-20:])
        return lines

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


@pytest.fixture
def server(tmp_path):
    s = ForkServer(tmp_path)
    yield s
    s.close()


def _names(lines: list[str], verb: str) -> set[str]:
    return {line.split()[1] for line in lines if line.startswith(verb + " ")}


def _check(g: Gallery, committed: set[str], removed: set[str], in_flight: set[str]) -> None:
    """``in_flight``: a change the child had started when killed; it may or may not have landed."""
    people = {p.name: p for p in g.people()}
    assert committed - removed - in_flight <= set(people), "a committed enrollment was lost"
    assert not (removed & set(people)), "a committed deletion came back"
    half = {n: p.sample_count for n, p in people.items() if p.sample_count != SAMPLES_PER_PERSON}
    assert half == {}, "half-written people"
    ids, _, vectors = g.store.vectors()
    assert g.index.ids() == set(ids.tolist()), "index disagrees with the database"
    if len(ids):
        assert np.array_equal(np.asarray(g.index.vectors(ids.tolist()), np.float32), vectors), (
            "the index holds other vectors than the database"
        )


@pytest.mark.slow
def test_100_sigkills_during_enrollment_lose_nothing(server, tmp_path):
    db = tmp_path / "kill.db"
    rng = random.Random(1234)
    committed: set[str] = set()
    syncs: Counter = Counter()
    for round_ in range(ROUNDS):
        lines = server.run_and_kill(db, round_ * 10_000, "enroll", rng.uniform(0.05, 0.6))
        committed |= _names(lines, "committed")
        in_flight = _names(lines, "enrolling") - _names(lines, "committed")
        assert len(in_flight) <= 1
        with Gallery(db) as g:
            syncs[g.index.last_sync] += 1
            _check(g, committed, set(), in_flight)
    print(
        f"\n{ROUNDS} SIGKILLs during enrollment: {len(committed)} committed people, 0 lost, 0 half-written, "
        f"index = database after each (index on reopen: {dict(syncs)})"
    )
    assert len(committed) > ROUNDS  # the kills landed mid-run, after work was done
    assert syncs["repaired"] + syncs["rebuilt"] > 0  # some kills hit between the commit and the index save


def _top_up(db: Path, count: int, start: int) -> None:
    rng = np.random.default_rng(start)
    with Gallery(db) as g:
        for i in range(count - len(g.people())):
            g.enroll_samples(
                f"victim-{start + i:06d}",
                [NewSample(rng.normal(0, 0.2, 128).astype(np.float32)) for _ in range(SAMPLES_PER_PERSON)],
            )


@pytest.mark.slow
def test_100_sigkills_during_deletion_lose_nothing(server, tmp_path):
    db = tmp_path / "kill.db"
    rng = random.Random(99)
    removed: set[str] = set()
    syncs: Counter = Counter()
    midway = 0
    for round_ in range(ROUNDS):
        # Enough people that a kill within 0.5 s lands mid-deletion: a removal takes ~3 ms when quiet.
        _top_up(db, GALLERY_FOR_DELETION, round_ * 1000)
        with Gallery(db) as g:
            present = {p.name for p in g.people()}
        lines = server.run_and_kill(db, 0, "delete", rng.uniform(0.05, 0.5))
        started, done = _names(lines, "removing"), _names(lines, "removed")
        assert len(started - done) <= 1
        removed |= done
        with Gallery(db) as g:
            syncs[g.index.last_sync] += 1
            _check(g, present - done, removed, started - done)
            midway += bool(g.people())
    print(
        f"\n{ROUNDS} SIGKILLs during deletion ({midway} with people still to delete): {len(removed)} committed "
        f"deletions, 0 came back, 0 half-written, index = database after each (index on reopen: {dict(syncs)})"
    )
    assert len(removed) > ROUNDS and midway > ROUNDS * 0.7
