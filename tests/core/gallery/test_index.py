"""The hnswlib index: Euclidean (not squared) distances, agreement with exact search, and a
damaged, stale, foreign or missing index file detected and rebuilt with the same answers."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from core.gallery.api import Gallery
from core.gallery.index import SampleIndex
from core.gallery.store import NewSample
from tests.support.data import KNN


def test_distances_are_euclidean_and_match_exact_search(tmp_path):
    rng = np.random.default_rng(3)
    vecs = rng.normal(0, 0.15, (500, 128)).astype(np.float32)
    idx = SampleIndex(tmp_path / "x.hnsw")
    idx.build(np.arange(1, 501), vecs)
    probe = vecs[10] + rng.normal(0, 0.01, 128).astype(np.float32)
    ids, dist = idx.knn(probe, 5)
    exact = np.linalg.norm(vecs - probe, axis=1)
    order = np.argsort(exact)[:5]
    assert ids.tolist() == (order + 1).tolist()
    assert np.allclose(dist, exact[order], atol=1e-4)  # not squared
    within_ids, within_d = idx.within(probe, float(exact[order[2]]) + 1e-5)
    assert within_ids.tolist() == (order[:3] + 1).tolist()


def test_within_widens_beyond_the_first_batch(tmp_path):
    vecs = np.zeros((300, 128), np.float32)
    vecs[:, 0] = np.linspace(0, 1, 300)
    idx = SampleIndex()
    idx.build(np.arange(300), vecs)
    ids, dist = idx.within(np.zeros(128, np.float32), 0.5)
    assert len(ids) == int((vecs[:, 0] <= 0.5).sum()) > 32 and np.all(np.diff(dist) >= 0)


def test_room_reserved_up_front_is_not_resized_again_while_samples_arrive():
    """A first sync says how many samples are coming: one resize while the index is small,
    none in the middle (each copies the whole index under the write lock)."""
    rng = np.random.default_rng(5)
    vecs = rng.normal(0, 0.15, (1001, 128)).astype(np.float32)
    idx = SampleIndex()
    idx.add([0], vecs[:1])
    idx.reserve(1000)
    assert idx._index is not None
    room = idx._index.get_max_elements()
    assert room >= 1001
    for start in range(1, 1001, 32):
        idx.add(np.arange(start, min(start + 32, 1001)), vecs[start : start + 32])
    assert idx.settle(120)  # every sample folded into the graph
    assert idx._index.get_max_elements() == room and len(idx) == 1001
    ids, _ = idx.knn(vecs[700], 1)
    assert ids.tolist() == [700]


def test_removed_samples_are_never_returned(tmp_path):
    rng = np.random.default_rng(4)
    vecs = rng.normal(0, 0.15, (50, 128)).astype(np.float32)
    idx = SampleIndex(tmp_path / "x.hnsw")
    idx.build(np.arange(50), vecs)
    idx.remove([7])
    ids, _ = idx.knn(vecs[7], 50)
    assert 7 not in ids.tolist() and len(ids) == 49


@pytest.fixture
def enrolled(db_path, describer):
    with Gallery(db_path, describer=describer) as g:
        for person in ("obama", "biden", "kit_harington"):
            g.enroll(person, sorted(str(f) for f in (KNN / "train" / person).iterdir()))
    return db_path


def _answers(g, describer):
    import core

    rgb = core.load_image(KNN / "test" / "obama_and_biden.jpg")
    faces = g.faces(rgb)
    return [(m.name, round(m.distance, 5)) for m in (g.identify_descriptor(f.descriptor) for f in faces)]


def _reopen(db_path, describer):
    return Gallery(db_path, describer=describer)


def test_index_file_is_reused_when_current(enrolled, describer):
    with _reopen(enrolled, describer) as g:
        assert g.sync_index() == "loaded"
        g.store.set_setting("door", "simulated")  # a write that touches no sample
        g.rename("obama", "Barack")
    with _reopen(enrolled, describer) as g:
        assert g.index.last_sync == "loaded"


@pytest.mark.parametrize("damage", ["torn", "foreign", "missing", "stamp-missing", "garbage-stamp"])
def test_damaged_index_is_rebuilt_with_the_same_answers(enrolled, describer, damage, tmp_path):
    with _reopen(enrolled, describer) as g:
        before = _answers(g, describer)
    index = enrolled.with_name(enrolled.name + ".hnsw")
    stamp = enrolled.with_name(enrolled.name + ".hnsw.stamp.json")
    if damage == "torn":
        data = index.read_bytes()
        index.write_bytes(data[: len(data) // 3])
    elif damage == "foreign":
        other = SampleIndex(tmp_path / "other.hnsw")
        other.build(np.arange(3), np.ones((3, 128), np.float32))
        other.save()
        shutil.copy(tmp_path / "other.hnsw", index)
    elif damage == "missing":
        index.unlink()
    elif damage == "stamp-missing":
        stamp.unlink()
    else:
        stamp.write_text("{not json")
    with _reopen(enrolled, describer) as g:
        assert g.index.last_sync == "rebuilt"
        assert g.index.ids() == set(g.store.sample_owners())
        assert _answers(g, describer) == before
    with _reopen(enrolled, describer) as g:  # and the rebuilt file is trusted next time
        assert g.index.last_sync == "loaded"


def test_stale_index_is_repaired_from_the_database(enrolled, describer):
    index = enrolled.with_name(enrolled.name + ".hnsw")
    stamp = enrolled.with_name(enrolled.name + ".hnsw.stamp.json")
    old_index, old_stamp = index.read_bytes(), stamp.read_text()
    with _reopen(enrolled, describer) as g:
        g.remove("biden")
        g.enroll_samples("newcomer", [NewSample(np.full(128, 0.05, np.float32))])
        expected = set(g.store.sample_owners())
    index.write_bytes(old_index)  # as if the app died before saving the index
    stamp.write_text(old_stamp)
    with _reopen(enrolled, describer) as g:
        assert g.index.last_sync == "repaired"
        assert g.index.ids() == expected
        assert all(c.name != "biden" for c in g.top_k(np.zeros(128, np.float32), 10))
    assert json.loads(stamp.read_text())["count"] == len(expected)  # the repaired graph was written at close


def test_queries_and_adds_go_on_while_the_index_is_being_saved(knn_gallery):
    """A save only reads the graph: identification never waits for a (large, slow) file write,
    and neither does an enrollment (it lands in the tail; only the fold into the graph waits)."""
    import threading

    first = min(knn_gallery.index.ids())
    vec = knn_gallery.index.vectors([first])[0]
    saving, done = threading.Event(), threading.Event()

    def a_long_save() -> None:
        with knn_gallery.index._lock.read():
            saving.set()
            done.wait(60)

    saver = threading.Thread(target=a_long_save)
    saver.start()
    saving.wait(10)
    added = threading.Event()
    adder = threading.Thread(target=lambda: (knn_gallery.index.add([10**6], np.asarray([vec])), added.set()))
    try:
        assert knn_gallery.index.knn(np.asarray(vec), 1)[0].tolist() == [first]  # answered mid-save
        adder.start()
        assert added.wait(10)  # an add does not wait for the save
        assert 10**6 in knn_gallery.index.knn(np.asarray(vec), 2)[0].tolist()  # and is found mid-save
        assert knn_gallery.index.pending() == 1  # from the tail: the fold waits for the save
    finally:
        done.set()
        saver.join()
        adder.join()
    assert knn_gallery.index.settle(30) and 10**6 in knn_gallery.index.ids()


def test_a_graph_written_aside_reads_back_with_the_same_answers(tmp_path):
    """write_graph writes the graph from a forked child (so the door's threads run meanwhile):
    the file it leaves is the graph, and this process is the same after it."""
    import hnswlib

    from core.gallery.index import write_graph

    rng = np.random.default_rng(5)
    vecs = rng.normal(0, 0.15, (2000, 128)).astype(np.float32)
    idx = SampleIndex()
    idx.build(np.arange(2000), vecs)
    write_graph(idx._index, tmp_path / "g.hnsw")
    back = hnswlib.Index(space="l2", dim=128)
    back.load_index(str(tmp_path / "g.hnsw"))
    back.set_ef(idx.params.ef_search)  # not kept in the file
    assert back.get_current_count() == 2000
    probes = vecs[:20] + 0.01
    assert np.array_equal(back.knn_query(probes, k=5)[0], idx._index.knn_query(probes, k=5)[0])
    assert idx.knn(vecs[7], 1)[0].tolist() == [7]


def test_a_graph_writer_that_crashes_is_an_error_here_and_the_door_lives_on(tmp_path):
    """A child that dies writing (here hnswlib crashes, SIGSEGV, saving an index it never made)
    is an OSError in the saving process, which SampleIndex.save logs and retries; the process
    itself goes on, and nothing is left behind."""
    import hnswlib

    from core.gallery.index import write_graph

    with pytest.raises(OSError, match=r"child process \(status -11\)"):
        write_graph(hnswlib.Index(space="l2", dim=128), tmp_path / "never.hnsw")
    assert not (tmp_path / "never.hnsw").exists()


def test_a_door_killed_mid_save_leaves_no_graph_writer_behind(tmp_path):
    """A door killed -9 while its forked child writes the graph takes the child with it (a
    writer left behind would race the restarted door's own save on the same file). The child
    here waits forever to open a FIFO, so only the parent's death can end it."""
    import os
    import signal
    import subprocess
    import sys
    import time
    import uuid
    from pathlib import Path

    fifo = tmp_path / "graph.fifo"
    os.mkfifo(fifo)
    marker = f"facegate-writer-test-{uuid.uuid4().hex}"
    code = (
        "import sys, hnswlib, numpy as np\n"
        "from pathlib import Path\n"
        "from core.gallery.index import write_graph\n"
        "index = hnswlib.Index(space='l2', dim=128)\n"
        "index.init_index(max_elements=4)\n"
        "index.add_items(np.zeros((1, 128), np.float32), [0])\n"
        f"write_graph(index, Path({str(fifo)!r}))\n"
    )

    def writers() -> list[int]:
        found = []
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
        return found

    door = subprocess.Popen([sys.executable, "-c", code, marker], cwd=Path(__file__).resolve().parents[3])
    try:
        deadline = time.monotonic() + 60
        while len(writers()) < 2 and door.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)  # the door and its forked writer, blocked opening the FIFO
        assert len(writers()) == 2, "the door never forked its writer"
        door.kill()
        door.wait(10)
        deadline = time.monotonic() + 10
        while writers() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert writers() == []
    finally:
        for pid in writers():
            os.kill(pid, signal.SIGKILL)
        door.kill()


def test_a_graph_writer_that_never_finishes_is_killed_and_an_error_here(tmp_path):
    """A child stuck writing (here: opening a FIFO nobody reads) is killed after its time and
    is an OSError, which SampleIndex.save logs and retries: the folder thread, and the close
    that saves last, never hang on it."""
    import os
    from pathlib import Path

    import hnswlib

    from core.gallery.index import write_graph

    index = hnswlib.Index(space="l2", dim=128)
    index.init_index(max_elements=4)
    index.add_items(np.zeros((1, 128), np.float32), [0])
    fifo = tmp_path / "graph.fifo"
    os.mkfifo(fifo)

    def children() -> set[int]:
        """This process's children, running or unreaped (other tests' servers among them)."""
        found = set()
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == os.getpid():
                    found.add(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
        return found

    before = children()
    with pytest.raises(OSError, match="did not finish in 1 s"):
        write_graph(index, fifo, timeout=1.0)
    assert children() == before  # the stuck writer was killed and reaped
