"""The index's two tiers: samples in the flat tail are found (exactly) before the HNSW graph has
them, a removed sample never matches from either tier, one enrollment writes no graph file, a
kill -9 after an enrollment and before any graph save loses nothing, and a damaged graph file
is rebuilt from the database while the door searches on."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator

import numpy as np

from core.gallery.api import Gallery
from core.gallery.index import SampleIndex
from core.gallery.store import NewSample
from tests.support.data import ROOT


def _vectors(count: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 0.15, (count, 128)).astype(np.float32)


@contextlib.contextmanager
def graph_busy(index: SampleIndex) -> Iterator[None]:
    """Hold the graph's read lock on another thread (as a long save does): queries go on, the
    folder cannot put anything in the graph, so what is added stays in the tail."""
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with index._lock.read():
            holding.set()
            release.wait(120)

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(10)
    try:
        yield
    finally:
        release.set()
        holder.join()


def _exact(vectors: np.ndarray, ids: np.ndarray, probe: np.ndarray, k: int) -> tuple[list[int], np.ndarray]:
    dist = np.linalg.norm(vectors - probe, axis=1)
    order = np.argsort(dist)[:k]
    return ids[order].tolist(), dist[order]


def test_samples_still_in_the_tail_are_found_with_exact_distances():
    graph, tail = _vectors(1500, 1), _vectors(300, 2)
    index = SampleIndex()
    index.build(np.arange(1500), graph)
    everything, all_ids = np.concatenate([graph, tail]), np.arange(1800)
    probes = tail[::30] + np.random.default_rng(3).normal(0, 0.01, (10, 128)).astype(np.float32)
    with graph_busy(index):
        index.add(np.arange(1500, 1800), tail)
        assert index.pending() == 300
        for n, probe in zip(range(0, 300, 30), probes, strict=True):
            ids, dist = index.knn(probe, 10)
            want, want_dist = _exact(everything, all_ids, probe, 10)
            assert ids[0] == 1500 + n  # the nearest is a sample only the tail holds
            assert ids.tolist() == want and np.allclose(dist, want_dist, atol=1e-5)
        assert index.pending() == 300  # all of it answered from the tail
    assert index.settle(60) and index.pending() == 0
    for n, probe in zip(range(0, 300, 30), probes, strict=True):
        assert index.knn(probe, 1)[0].tolist() == [1500 + n]  # now from the graph
    assert np.array_equal(index.vectors([1500, 1799, 3]), np.stack([tail[0], tail[299], graph[3]]))


def test_a_held_folder_leaves_everything_in_the_tail_and_takes_it_up_after():
    """What a site's first sync does (core.site.sync first_pull): the folder stays still while
    samples pour in, they are searchable from the tail, and the graph takes them up afterwards."""
    index = SampleIndex()
    index.build(np.arange(100), _vectors(100, 4))
    added = _vectors(400, 5)
    with index.held():
        index.add(np.arange(100, 500), added)
        assert not index.settle(1.0)  # a second of an idle folder: it would have folded 400 by now
        assert index.pending() == 400
        assert index.knn(added[123], 1)[0].tolist() == [223]
    assert index.settle(60) and index.pending() == 0
    assert index.knn(added[123], 1)[0].tolist() == [223]
    index.close()


def test_a_removed_sample_never_matches_from_either_tier():
    graph, tail = _vectors(800, 4), _vectors(200, 5)
    index = SampleIndex()
    index.build(np.arange(800), graph)
    gone = [17, 500, 850, 999]  # two in the graph, two in the tail
    with graph_busy(index):  # the graph's mark_deleted cannot happen yet: the live set must do
        index.add(np.arange(800, 1000), tail)
        index.remove(gone)
        for i in gone:
            probe = graph[i] if i < 800 else tail[i - 800]
            ids, _ = index.knn(probe, 1000)
            assert i not in ids.tolist() and len(ids) == 996
            assert i not in index.within(probe, 0.5)[0].tolist()
    assert index.settle(60)
    for i in gone:
        probe = graph[i] if i < 800 else tail[i - 800]
        assert i not in index.knn(probe, 1000)[0].tolist()
    assert index._index is not None
    for i in (17, 500):  # marked deleted in the graph once the folder could
        with contextlib.suppress(RuntimeError):
            index._index.get_items([i])
            raise AssertionError(f"sample {i} is still live in the graph")


def test_a_removed_person_is_not_named_whichever_tier_holds_them(db_path):
    vectors = _vectors(40, 6)
    with Gallery(db_path) as g:
        for n in range(20):  # in the graph
            g.enroll_samples(f"old {n}", [NewSample(vectors[n])])
        g.index.settle(60)
        with graph_busy(g.index):
            g.enroll_samples("new", [NewSample(vectors[30]), NewSample(vectors[31])])  # in the tail
            assert g.identify_descriptor(vectors[30]).name == "new"
            assert g.identify_descriptor(vectors[5]).name == "old 5"
            g.remove("new")
            g.remove("old 5")
            for probe in (vectors[30], vectors[31], vectors[5]):
                match = g.identify_descriptor(probe)
                assert match.name is None and {c.name for c in match.candidates}.isdisjoint({"new", "old 5"})


def test_one_enrollment_rewrites_no_graph_file(db_path):
    vectors = _vectors(301, 7)
    with Gallery(db_path) as g:
        for n in range(300):
            g.enroll_samples(f"person {n}", [NewSample(vectors[n])])
    graph = db_path.with_name(db_path.name + ".hnsw")
    with Gallery(db_path) as g:
        assert g.index.last_sync == "loaded"
        before = graph.stat()
        g.enroll_samples("newcomer", [NewSample(vectors[300])])
        assert g.identify_descriptor(vectors[300]).name == "newcomer"
        assert g.index.settle(30)  # folded into the graph in memory
        after = graph.stat()
        assert (after.st_mtime_ns, after.st_ino, after.st_size) == (before.st_mtime_ns, before.st_ino, before.st_size)
    with Gallery(db_path) as g:  # written at close, so the next open loads it as it is
        assert g.index.last_sync == "loaded"


CHILD = """
import sys, time
import numpy as np
from core.gallery.api import Gallery
from core.gallery.store import NewSample

g = Gallery(sys.argv[1])
vectors = np.load(sys.argv[2])
g.enroll_samples("late arrival", [NewSample(v) for v in vectors])
g.remove("person 7")
g.index.settle(30)  # even folded into the graph in memory: the file is not written
print("committed", flush=True)
time.sleep(120)
"""


def test_kill_9_after_an_enrollment_before_a_graph_save_loses_nothing(db_path, tmp_path):
    vectors = _vectors(63, 8)
    with Gallery(db_path) as g:
        for n in range(60):
            g.enroll_samples(f"person {n}", [NewSample(vectors[n])])
        (removed,) = [s.id for s in g.store.samples("person 7")]
    graph = db_path.with_name(db_path.name + ".hnsw")
    digest = hashlib.sha256(graph.read_bytes()).hexdigest()
    np.save(tmp_path / "late.npy", vectors[60:])
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db_path), str(tmp_path / "late.npy")],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "committed"
        assert hashlib.sha256(graph.read_bytes()).hexdigest() == digest  # the graph file is the old one
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        if child.stdout is not None:
            child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    with Gallery(db_path) as g:
        assert g.index.last_sync == "repaired"
        assert g.index.ids() == set(g.store.sample_owners())
        for v in vectors[60:]:
            assert g.identify_descriptor(v).name == "late arrival"
        match = g.identify_descriptor(vectors[7])  # in the old graph file, removed in the database
        assert match.name is None and all(c.name != "person 7" for c in match.candidates)
        assert removed not in g.index.knn(vectors[7], 100)[0].tolist()


def test_a_damaged_graph_file_is_rebuilt_and_searchable_at_once(db_path, caplog):
    vectors = _vectors(200, 9)
    with Gallery(db_path) as g:
        for n in range(200):
            g.enroll_samples(f"person {n}", [NewSample(vectors[n])])
    graph = db_path.with_name(db_path.name + ".hnsw")
    data = bytearray(graph.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 4096] = os.urandom(4096)
    graph.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="facegate"), Gallery(db_path) as g:
        assert g.index.last_sync == "rebuilt"
        warnings = [r.getMessage() for r in caplog.records if r.name == "facegate.index"]
        assert len(warnings) == 1 and str(graph) in warnings[0] and "rebuilt it from the database" in warnings[0]
        for n in range(0, 200, 20):  # answered at once, from the tail or the graph being rebuilt
            assert g.identify_descriptor(vectors[n]).name == f"person {n}"
        assert g.index.settle(60) and g.index.pending() == 0
        for n in range(0, 200, 20):
            assert g.identify_descriptor(vectors[n]).name == f"person {n}"
    with Gallery(db_path) as g:
        assert g.index.last_sync == "loaded"
