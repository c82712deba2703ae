"""The index's fold in bounded holds: a tail folded into the HNSW graph a few samples per hold
(the hold cut by the clock) makes the very graph one add of the same samples makes, and a query
between two holds sees every sample once, from one tier or the other, with its exact distance."""

from __future__ import annotations

import threading
import time

import hnswlib
import numpy as np

from core.gallery import index as index_module
from core.gallery.api import Gallery
from core.gallery.index import IndexParams, SampleIndex
from core.gallery.store import NewSample
from core.records import DESCRIPTOR_DIM


def _vectors(count: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 0.15, (count, DESCRIPTOR_DIM)).astype(np.float32)


def _fold_by_hand(index: SampleIndex, ids: np.ndarray, vectors: np.ndarray) -> list[int]:
    """Add these samples and fold the whole tail with the folder thread held still all along
    (only one thread ever folds); how many samples each hold moved."""
    moved = []
    with index.held():
        index.add(ids, vectors)
        while index.pending():
            moved.append(index.fold_once())
    return moved


def test_a_fold_in_pieces_makes_the_same_graph_as_one_add(tmp_path, monkeypatch):
    count = 1000
    vectors, ids = _vectors(count, 1), np.arange(100, 100 + count)
    params = IndexParams()
    files = []
    for run, hold in (("by size", index_module.FOLD_HOLD), ("one piece a hold", 0.0)):
        monkeypatch.setattr(index_module, "FOLD_HOLD", hold)  # 0: the clock ends each hold after its first piece
        index = SampleIndex(tmp_path / f"{run}.hnsw", params)
        index.reserve(count)
        moved = _fold_by_hand(index, ids, vectors)
        assert sum(moved) == count and len(index) == count
        assert len(moved) >= 6  # many holds: the chunk starts at 16 and at most doubles
        if hold == 0.0:
            assert max(moved) <= 4  # a piece of a chunk of at most 16: the hold was cut by the clock
        index.save()
        files.append(index.path.read_bytes())  # type: ignore[union-attr]
        index.close()
    one = hnswlib.Index(space="l2", dim=DESCRIPTOR_DIM)  # what SampleIndex makes, filled in one add
    one.init_index(max_elements=int(count * 1.05) + 64, ef_construction=params.ef_construction, M=params.M, random_seed=42)
    one.add_items(vectors, ids, num_threads=1)
    one.save_index(str(tmp_path / "one.hnsw"))
    assert files[0] == files[1] == (tmp_path / "one.hnsw").read_bytes()


def test_a_query_between_holds_sees_every_sample_once_with_its_exact_distance(monkeypatch):
    monkeypatch.setattr(index_module, "FOLD_HOLD", 0.0)  # a hold per sample or two: hundreds of holds
    graph, tail = _vectors(300, 2), _vectors(900, 3)
    everything, all_ids = np.concatenate([graph, tail]), np.arange(1200)
    index = SampleIndex()
    index.build(np.arange(300), graph)
    probes = everything[::40] + np.random.default_rng(4).normal(0, 0.01, (30, DESCRIPTOR_DIM)).astype(np.float32)
    seen_pending, bad, stop = set(), [], threading.Event()

    def door() -> None:
        while not stop.is_set():
            for n, probe in enumerate(probes):
                pending = index.pending()
                ids, dist = index.knn(probe, 20)
                seen_pending.add(pending)
                exact = np.linalg.norm(everything[ids] - probe, axis=1)
                if ids[0] != 40 * n or len(set(ids.tolist())) != 20 or not np.allclose(dist, exact, atol=1e-5):
                    bad.append((pending, n, ids.tolist()))

    reader = threading.Thread(target=door)
    index.add(np.arange(300, 1200), tail)  # the folder takes it up, a hold at a time
    reader.start()  # after the add: a query begun before it rightly misses the tail
    try:
        assert index.settle(120)
    finally:
        stop.set()
        reader.join()
    assert not bad, bad[:3]
    assert len({p for p in seen_pending if 0 < p < 900}) >= 5  # queries did land between holds
    assert index.longest_hold > 0
    assert sorted(index.ids()) == all_ids.tolist()
    for n, probe in enumerate(probes):
        assert index.knn(probe, 1)[0].tolist() == [40 * n]


def test_identify_names_everyone_while_a_big_tail_is_folded(db_path, describer, monkeypatch):
    """At the door: people enrolled while the graph takes up a tail a hold at a time are named,
    and a stranger is not, between any two holds."""
    monkeypatch.setattr(index_module, "FOLD_HOLD", 0.0)
    people = np.random.default_rng(5).normal(0, 0.06, (60, DESCRIPTOR_DIM)).astype(np.float32)
    stranger = np.random.default_rng(6).normal(0, 0.06, DESCRIPTOR_DIM).astype(np.float32)
    g = Gallery(db_path, describer=describer)
    try:
        wrong = []
        rounds = 0
        with g.index.held():  # the folder thread still: the holds are these
            for n, centre in enumerate(people):
                g.enroll_samples(f"person {n}", [NewSample(centre + d) for d in _vectors(5, 10 + n) * 0.1])
            assert g.index.pending() == 300
            while g.index.pending():
                g.index.fold_once()
                rounds += 1
                n = rounds % len(people)
                if g.identify_descriptor(people[n]).name != f"person {n}" or g.identify_descriptor(stranger).name is not None:
                    wrong.append((rounds, n))
        assert rounds >= 100 and not wrong, wrong[:3]
    finally:
        g.close()


def test_a_big_tail_built_aside_and_swapped_in_is_seen_once_by_every_query_meanwhile(monkeypatch):
    """A tail much bigger than the graph goes into a new graph built aside and swapped in: a
    query before, during and after the swap (and while the tail lets go after it) sees every
    sample once, with its exact distance; samples removed while the graph is built aside never
    come back, and the graph counts exactly the live ones."""
    monkeypatch.setattr(index_module, "ASIDE_MIN", 500)
    monkeypatch.setattr(index_module, "ASIDE_PIECE", 16)  # many pieces: queries and removals land between them
    graph, tail = _vectors(100, 7), _vectors(1900, 8)
    everything = np.concatenate([graph, tail])
    index = SampleIndex()
    index.build(np.arange(100), graph)
    probes = everything[::50] + np.random.default_rng(9).normal(0, 0.01, (40, DESCRIPTOR_DIM)).astype(np.float32)
    removed: list[int] = []
    bad, stop = [], threading.Event()

    def door() -> None:
        while not stop.is_set():
            for n, probe in enumerate(probes):
                gone = set(removed)  # removed before this query began: never answered
                ids, dist = index.knn(probe, 20)
                exact = np.linalg.norm(everything[ids] - probe, axis=1)
                if (
                    ids[0] != 50 * n
                    or len(set(ids.tolist())) != len(ids)
                    or gone & set(ids.tolist())
                    or not np.allclose(dist, exact, atol=1e-5)
                ):
                    bad.append((n, ids.tolist(), sorted(gone & set(ids.tolist())), len(ids), float(np.abs(dist - exact).max())))

    def remover() -> None:
        for sample in range(1, 2000, 50):  # never a probe's own sample (multiples of 50)
            index.remove([sample])
            removed.append(sample)
            time.sleep(0.002)

    reader, pruner = threading.Thread(target=door), threading.Thread(target=remover)
    with index.held():  # the folder still: this thread builds aside, as the folder would
        index.add(np.arange(100, 2000), tail)
        reader.start()
        pruner.start()
        try:
            assert index.build_aside() == 1900
        finally:
            pruner.join()
            stop.set()
            reader.join()
    assert not bad, bad[:3]
    assert index.settle(60)  # what was removed after the swap is marked by the folder
    live = sorted(set(range(2000)) - set(removed))
    assert sorted(index.ids()) == live and index._graph_count == len(live) and index.pending() == 0
    for n, probe in enumerate(probes):
        assert index.knn(probe, 1)[0].tolist() == [50 * n]
    assert index.longest_aside > 0
    index.close()


def test_a_tail_small_next_to_the_graph_is_folded_not_built_aside(monkeypatch):
    monkeypatch.setattr(index_module, "ASIDE_MIN", 100)
    index = SampleIndex()
    index.build(np.arange(300), _vectors(300, 11))
    with index.held():
        index.add(np.arange(300, 600), _vectors(300, 12))  # the tail is the graph's size, not 4x it
        assert index.build_aside() == 0 and index.pending() == 300
    assert index.settle(60)
    index.close()
