"""SIGKILL a process in the middle of enrolling, at many random moments: every committed person
is there with all samples, no person is half-written, and the index agrees with the database."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.gallery import Gallery

HERE = Path(__file__).parent
ROUNDS = int(os.environ.get("FACEGATE_KILL_ROUNDS", "30"))


def _run_and_kill(db: Path, start: int, mode: str, delay: float) -> list[str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE.parent), str(HERE)]))
    child = subprocess.Popen([sys.executable, str(HERE / "enroll_child.py"), str(db), str(start), mode],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    time.sleep(delay)
    child.send_signal(signal.SIGKILL)
    out, err = child.communicate()
    assert child.returncode == -signal.SIGKILL, err
    return out.splitlines()


def _check(db: Path, committed: set[str], removed: set[str], in_flight: set[str] = frozenset()) -> dict:
    """``in_flight``: a deletion the child had started when killed; it may or may not have landed."""
    from enroll_child import SAMPLES_PER_PERSON

    with Gallery(db) as g:
        people = {p.name: p for p in g.people()}
        assert committed - removed - in_flight <= set(people), "a committed enrollment was lost"
        assert not (removed & set(people)), "a committed deletion came back"
        half = {n: p.sample_count for n, p in people.items() if p.sample_count != SAMPLES_PER_PERSON}
        assert half == {}, "half-written people"
        assert g.index.ids() == set(g.store.sample_owners()), "index disagrees with the database"
        return {"people": len(people), "sync": g.index.last_sync}


@pytest.mark.slow
def test_sigkill_during_enrollment_loses_nothing(tmp_path):
    db = tmp_path / "kill.db"
    rng = random.Random(1234)
    committed: set[str] = set()
    syncs: dict[str, int] = {}
    for round_ in range(ROUNDS):
        lines = _run_and_kill(db, start=round_ * 10_000, mode="enroll", delay=rng.uniform(0.35, 1.2))
        committed |= {line.split()[1] for line in lines if line.startswith("committed ")}
        state = _check(db, committed, set())
        syncs[state["sync"]] = syncs.get(state["sync"], 0) + 1
    print(f"\n{ROUNDS} kills during enrollment: {len(committed)} committed people, 0 lost, 0 half-written; "
          f"index on reopen: {syncs}")
    assert len(committed) > ROUNDS  # the kills really landed mid-run, after work was done


@pytest.mark.slow
def test_sigkill_during_deletion_loses_nothing(tmp_path):
    db = tmp_path / "kill.db"
    committed: set[str] = set()
    lines = _run_and_kill(db, start=0, mode="enroll", delay=2.0)
    committed |= {line.split()[1] for line in lines if line.startswith("committed ")}
    removed: set[str] = set()
    rng = random.Random(99)
    for round_ in range(max(5, ROUNDS // 3)):
        lines = _run_and_kill(db, start=0, mode="delete", delay=rng.uniform(0.35, 0.8))
        started = {line.split()[1] for line in lines if line.startswith("removing ")}
        done = {line.split()[1] for line in lines if line.startswith("removed ")}
        assert len(started - done) <= 1
        removed |= done
        _check(db, committed, removed, in_flight=started - done)
        with Gallery(db) as g:  # whatever was in flight either landed whole or not at all
            removed |= (started - done) - {p.name for p in g.people()}
    assert removed
