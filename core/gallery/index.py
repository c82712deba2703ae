"""The sample index over every enrolled sample: a cache of the database, never the truth.

Two tiers, searched together with one rule (the k nearest of both, by exact distance):
- the HNSW graph (hnswlib) for the bulk;
- a flat tail (core.gallery.tail): samples added since the graph last caught up, searched exactly
  with numpy. Adding a sample only appends it there: a first sync of 500k samples or an
  enrollment is searchable at once, bounded by the database, not by hnswlib's inserts.
A folder thread moves the tail into the graph a chunk at a time under the graph's write lock
(hnswlib crashes when add_items and knn_query overlap). Each hold is bounded by time, not only by
size: the chunk goes in a few pieces and the hold ends once FOLD_HOLD (10 ms) has passed, the rest
left in the tail for the next hold, so a slow moment of the machine (a busy core, a grown graph)
never stretches one hold to seconds; a query waits at most one hold. Adding in pieces, in the same
order on one thread, makes the same graph as one add (tests/core/gallery/test_index_fold.py).
A tail at least ASIDE_SHARE times the graph (a new door's first sync, a graph rebuilt from the
database) is not folded: the folder builds a new graph of both aside, with no lock held, and
swaps it in under one short hold (build_aside).
Queries, and a save, share the graph's read lock.

Removal takes effect at once in both tiers: the sample leaves the live set and the tail under
the tail's lock, and every answer is filtered by the live set; the graph's mark_deleted
follows on the folder thread (a save of a big graph may be holding its read lock).

- hnswlib's 'l2' space returns SQUARED distances; this class speaks Euclidean (0.4 = 0.16).
- Saving is incremental: the database is the journal. The graph file is written only now and
  then (after the folder has folded a share of it, on a timer, at close), never per enrollment;
  on open, samples in the database the file lacks go to the tail and samples it has that the
  database does not are marked deleted, so a kill -9 at any moment loses nothing.
- hnswlib's save_index and get_items hold Python's GIL throughout: the file is written by a
  forked child (write_graph) and vectors are read back in pieces (read_vectors), so neither
  stops the door's other threads for more than a few ms.
- saveIndex writes in place with no fsync, so we save to a temporary file, fsync, rename, and
  write a stamp (count, SHA-256 of the file). On open, a missing, torn or foreign file is
  detected from the stamp and a spot check; the graph then starts empty with every sample in the
  tail (searchable at once, exact) and is rebuilt in the background.
"""

from __future__ import annotations

import contextlib
import ctypes
import faulthandler
import json
import logging
import os
import signal
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import hnswlib
import numpy as np

from core.gallery.files import fsync_file, fsync_folder, sha256_of
from core.gallery.tail import FlatTail, nearest
from core.records import DESCRIPTOR_DIM

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy.typing as npt

STAMP_FORMAT = 1
#: Seconds after which the folder lets go of the graph's write lock (a query waits at most that
#: and one piece).
FOLD_HOLD = 0.01
#: A chunk goes into the graph in this many pieces, the clock read between them.
FOLD_PIECES = 4
#: Samples a fold takes from the tail at most (the chunk doubles while a hold ends early).
FOLD_MOST = 1024
#: Threads of hnswlib's inserts in a fold: one, so the other core stays with the sync that feeds
#: the tail and with identification (measured on 2 busy cores, a second thread added nothing).
FOLD_THREADS = 1
#: The graph file is rewritten once the folder has folded this share of the graph's size (and
#: at least SAVE_MIN samples) since the last save, or SAVE_INTERVAL seconds after a change.
SAVE_SHARE = 0.05
SAVE_MIN = 1000
SAVE_INTERVAL = 300.0
#: A tail this big, and at least ASIDE_SHARE times the graph (a new door's first sync, a graph
#: rebuilt from the database), is built into a new graph off to the side rather than folded in:
#: re-inserting the graph's own samples costs less then than 10 ms holds of the write lock.
ASIDE_MIN = 20_000
ASIDE_SHARE = 4
#: Samples per add_items while building aside (the close flag is read between them: a closing
#: gallery waits for one piece, a second or two on a busy core), and per hold of the tail's lock
#: while the tail lets go of them after the swap.
ASIDE_PIECE = 1024
#: Vectors per get_items call: hnswlib looks each one up holding Python's GIL (about 10 us a
#: vector: 200,000 in one call stopped every other thread of the door for 2.1 s), so a big
#: read goes in pieces, each a few ms, and the door's threads run between them.
READ_PIECE = 1024
#: Seconds a graph's writer child may take (a 330 MB file takes 1.5-4 s here): one that is stuck
#: past it is killed and the save is tried again later, so the folder and close never hang on it.
WRITE_TIMEOUT = 300.0
#: prctl's option for the signal a process gets when its parent dies (linux/prctl.h).
PR_SET_PDEATHSIG = 1
#: At close a tail this small is folded first, so the next open loads the graph as it is.
CLOSE_FOLD = 500
#: Vectors compared with the database when a file is loaded: a foreign index (another gallery's,
#: same sample ids, other faces) passes every stamp check but not this one.
SPOT_CHECK = 32
log = logging.getLogger("facegate.index")


@dataclass
class IndexParams:
    """hnswlib parameters. Measured at 100k face-like samples (bench/core_bench.py, /tmp sweep):
    M=16 with ef_search=64 found the exact nearest person for only 95.6 % of queries; ef_search=256
    for 100 % at 1.6 ms a query. M=32 reaches 100 % at ef=128 but takes 1.8x as long to build,
    and build time is what a rebuild after a damaged index costs."""

    M: int = 16
    ef_construction: int = 200
    ef_search: int = 256


class ReadWriteLock:
    """Many readers at once, or one writer; the writer's own thread may re-enter, and read.
    Queries come first at a door: readers never wait for a waiting writer, and a writer waits
    for the readers already waiting (a long run of adds, a first sync, lets a query in between
    any two of its chunks instead of starving it)."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._readers = 0
        self._waiting_readers = 0
        self._writer: int | None = None
        self._depth = 0

    @contextlib.contextmanager
    def read(self) -> Iterator[None]:
        me = threading.get_ident()
        with self._cond:
            nested = self._writer == me
            if nested:
                self._depth += 1
            else:
                self._waiting_readers += 1
                while self._writer is not None:
                    self._cond.wait()
                self._waiting_readers -= 1
                self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                if nested:
                    self._depth -= 1
                else:
                    self._readers -= 1
                    if not self._readers:
                        self._cond.notify_all()

    @contextlib.contextmanager
    def write(self) -> Iterator[None]:
        me = threading.get_ident()
        with self._cond:
            if self._writer == me:
                self._depth += 1
            else:
                while self._writer is not None or self._readers or self._waiting_readers:
                    self._cond.wait()
                self._writer, self._depth = me, 1
        try:
            yield
        finally:
            with self._cond:
                self._depth -= 1
                if not self._depth:
                    self._writer = None
                    self._cond.notify_all()


class SampleIndex:
    """Nearest-neighbour search over sample descriptors, labels = sample ids."""

    def __init__(self, path: str | Path | None = None, params: IndexParams | None = None) -> None:
        self.path = Path(path) if path else None
        self.params = params or IndexParams()
        self._lock = ReadWriteLock()  # the graph: hnswlib's writes against its queries
        self._index: hnswlib.Index | None = None
        self._graph_count = 0  # samples in the graph not marked deleted (under _lock)
        self._tail_lock = threading.Condition(threading.Lock())  # the tail, _live, _unmarked
        self._tail = FlatTail()
        self._live: set[int] = set()  # every searchable sample, in either tier
        self._unmarked: set[int] = set()  # removed, still to be marked deleted in the graph
        self.last_sync = "empty"
        self._chunk = 16  # samples per fold, adjusted to FOLD_HOLD
        self.longest_hold = 0.0  # seconds: the longest a fold held the graph's write lock (bench/site_bench.py)
        self._folded = 0  # samples folded since the last save
        self._changed_at: float | None = None  # when the graph first changed since its last save
        self._folder: threading.Thread | None = None
        self._closing = False
        self._held = 0  # callers inside held(): the folder waits
        self._removed_aside: list[int] | None = None  # removed while a graph is built aside (build_aside)
        self.longest_aside = 0.0  # seconds: the longest build aside (bench/site_bench.py)

    # -- construction ---------------------------------------------------------------------------
    def _new(self, capacity: int) -> hnswlib.Index:
        index = hnswlib.Index(space="l2", dim=DESCRIPTOR_DIM)
        index.init_index(
            max_elements=max(capacity, 64), ef_construction=self.params.ef_construction, M=self.params.M, random_seed=42
        )
        index.set_ef(self.params.ef_search)
        index.set_num_threads(2)
        return index

    def build(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Replace the index with exactly these samples, all in the graph before it returns."""
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        with self._lock.write(), self._tail_lock:
            self._index = self._new(int(len(ids) * 1.25) + 64)
            if len(ids):
                self._index.add_items(np.asarray(vectors, np.float32).reshape(-1, DESCRIPTOR_DIM), ids, num_threads=2)
            self._graph_count = len(ids)
            self._tail, self._live, self._unmarked = FlatTail(), set(ids.tolist()), set()
            self._graph_changed(len(ids))

    def add(self, ids: npt.ArrayLike, vectors: npt.ArrayLike) -> None:
        """Make samples searchable now (in the tail); the folder puts them in the graph later."""
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        vectors = np.asarray(vectors, dtype=np.float32).reshape(-1, DESCRIPTOR_DIM)
        if len(ids) == 0:
            return
        with self._tail_lock:
            self._tail.append(ids, vectors)
            self._live.update(ids.tolist())
            self._wake_folder()

    def reserve(self, extra: int) -> None:
        """Make room for ``extra`` more samples in one resize (a first sync says how many are
        coming): resizing copies the whole graph under the write lock, so it is done while the
        graph is small rather than again and again as it grows; the same for the tail."""
        with self._tail_lock:
            self._tail.reserve(int(extra))
            aside = self._aside_due(len(self._tail) + int(extra))
        if aside:  # the graph is built anew aside (build_aside): no room needed in this one
            return
        with self._lock.write():
            if self._index is None:
                self._index = self._new(int(extra * 1.05) + 64)
            need = self._index.get_current_count() + int(extra)
            if need > self._index.get_max_elements():
                self._index.resize_index(int(need * 1.05) + 64)

    def remove(self, ids: Iterable[int]) -> None:
        """No answer given after this returns holds these samples, from either tier."""
        with self._tail_lock:
            for i in ids:
                i = int(i)
                if i not in self._live:
                    continue
                self._live.discard(i)
                if self._removed_aside is not None:
                    self._removed_aside.append(i)
                if not self._tail.discard(i):
                    self._unmarked.add(i)
            if self._unmarked:
                self._wake_folder()

    def __len__(self) -> int:
        return len(self._live)

    def ids(self) -> set[int]:
        with self._tail_lock:
            return set(self._live)

    def pending(self) -> int:
        """Samples still in the tail (not yet in the graph)."""
        with self._tail_lock:
            return len(self._tail)

    def vectors(self, ids: Iterable[int]) -> np.ndarray:
        """The descriptors held for these live samples, from whichever tier holds them."""
        ids = [int(i) for i in ids]
        out = np.empty((len(ids), DESCRIPTOR_DIM), np.float32)
        in_graph = []
        with self._tail_lock:
            for row, i in enumerate(ids):
                if i not in self._live:
                    raise KeyError(f"sample {i} is not in the index")
                held = self._tail.vector(i)
                if held is None:
                    in_graph.append(row)
                else:
                    out[row] = held
        if in_graph:
            with self._lock.read():
                assert self._index is not None
                out[in_graph] = read_vectors(self._index, [ids[r] for r in in_graph])
        return out

    # -- the folder -----------------------------------------------------------------------------
    def _wake_folder(self) -> None:
        """(tail lock held) Have the folder thread run, starting it the first time."""
        if self._folder is None and not self._closing:
            self._folder = threading.Thread(target=self._fold_forever, name="index-folder", daemon=True)
            self._folder.start()
        self._tail_lock.notify_all()

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Keep the folder still meanwhile (a first sync pouring thousands of samples into the
        tail): queries never wait on the graph's write lock, and the folder's core stays with the
        sync; everything is searchable in the tail, and the folder takes it all up afterwards."""
        with self._tail_lock:
            self._held += 1
        try:
            yield
        finally:
            with self._tail_lock:
                self._held -= 1
                self._tail_lock.notify_all()

    def _fold_forever(self) -> None:
        while True:
            with self._tail_lock:
                while not self._closing and (self._held or not (len(self._tail) or self._unmarked or self._save_due())):
                    self._tail_lock.wait(None if self._held else self._until_save_due())
                if self._closing:
                    return
                work = bool(len(self._tail) or self._unmarked)
            if work and not self.build_aside():
                self.fold_once()
            else:
                self.save()

    def _save_due(self) -> bool:
        if self.path is None or self._changed_at is None:
            return False
        enough = self._folded >= max(SAVE_MIN, SAVE_SHARE * self._graph_count)
        return (enough and not len(self._tail)) or time.monotonic() - self._changed_at >= SAVE_INTERVAL

    def _until_save_due(self) -> float | None:
        if self.path is None or self._changed_at is None:
            return None
        return max(0.0, self._changed_at + SAVE_INTERVAL - time.monotonic())

    def fold_once(self) -> int:
        """Put one chunk of the tail in the graph, and mark what was removed deleted there; how
        many samples moved. The graph's write lock is held once, for at most about FOLD_HOLD:
        what of the chunk did not go in by then stays in the tail for the next hold. One thread
        folds at a time (the folder thread; close() once it has stopped; a caller holding it)."""
        with self._tail_lock:
            ids, vectors = self._tail.front(self._chunk)
            gone = set(self._unmarked)
        piece = max(1, -(-len(ids) // FOLD_PIECES))
        done = 0
        with self._lock.write():
            started = time.perf_counter()
            if self._index is None:
                self._index = self._new(int(len(ids) * 1.25) + 64)
            for i in gone:
                with contextlib.suppress(RuntimeError):  # already marked (a graph loaded with it)
                    self._index.mark_deleted(i)
                    self._graph_count -= 1
            if len(ids):
                need = self._index.get_current_count() + len(ids)
                if need > self._index.get_max_elements():
                    self._index.resize_index(int(need * 1.5) + 64)
            while done < len(ids) and (not done or time.perf_counter() - started < FOLD_HOLD):
                self._index.add_items(vectors[done : done + piece], ids[done : done + piece], num_threads=FOLD_THREADS)
                done = min(done + piece, len(ids))
            self._graph_count += done
            took = time.perf_counter() - started
        moved = ids[:done]
        with self._tail_lock:
            self.longest_hold = max(self.longest_hold, took)
            self._tail.drop(moved)
            self._unmarked -= gone
            self._unmarked.update(i for i in moved.tolist() if i not in self._live)  # removed mid-fold
            self._graph_changed(done, bool(gone))
            if done:
                # at most twice the last: an insert costs more as the graph grows
                self._chunk = int(min(2 * done, FOLD_MOST, max(1, done * FOLD_HOLD / max(took, 1e-4))))
        return done

    def _aside_due(self, tail: int) -> bool:
        """(tail lock held) Is a tail of this size built aside rather than folded in?"""
        return tail >= ASIDE_MIN and tail >= ASIDE_SHARE * self._graph_count

    def build_aside(self) -> int:
        """When the tail is big next to the graph: a new graph of the graph's samples and the
        tail's, built in a private hnswlib index no query sees (so no lock is held; on one
        thread, the other core left to the door: two made a 10k first sync's catch-up no faster
        on these busy cores, and the door's longest wait 240 ms), swapped in under one short
        hold of the write lock; the tail lets go of them after, a piece at a time (meanwhile a
        sample in both tiers is answered once: knn keeps the first of an id). How many samples
        left the tail (0: the tail is not big enough, or the index is closing). One thread folds
        at a time, as fold_once."""
        with self._tail_lock:
            if not self._aside_due(len(self._tail)):
                return 0
            view = self._tail.view()  # not front(): copying 256 MB under the lock stopped queries for 0.5 s
            self._removed_aside = []
        started = time.perf_counter()
        try:
            ids, vectors = view.ids[view.alive], view.vectors[view.alive]  # rows a view holds never change
            old_ids, old_vectors = self._graph_samples()
            private = self._new(len(old_ids) + len(ids) + max(1024, len(ids) // 10))
            for labels, rows in ((old_ids, old_vectors), (ids, vectors)):
                for at in range(0, len(labels), ASIDE_PIECE):
                    if self._closing:
                        return 0
                    private.add_items(rows[at : at + ASIDE_PIECE], labels[at : at + ASIDE_PIECE], num_threads=FOLD_THREADS)
            with self._lock.write():
                held = time.perf_counter()
                with self._tail_lock:
                    gone, self._removed_aside = set(self._removed_aside) | self._unmarked, None
                    self._unmarked = set()
                count = len(old_ids) + len(ids)
                for i in gone:  # removed meanwhile, or still to be marked in the old graph
                    with contextlib.suppress(RuntimeError):
                        private.mark_deleted(i)
                        count -= 1
                self._index, self._graph_count = private, count
                took = time.perf_counter() - held
        finally:
            with self._tail_lock:
                self._removed_aside = None
        for at in range(0, len(ids), ASIDE_PIECE):
            piece = ids[at : at + ASIDE_PIECE]
            with self._tail_lock:
                self._tail.drop(piece)
                self._unmarked.update(i for i in piece.tolist() if i not in self._live)  # removed after the swap
            # let a query waiting for the tail's lock have it: this thread would take it again
            # at once, holding the GIL, and a query waited out the whole loop (105 ms at 500k)
            time.sleep(0)
        with self._tail_lock:
            self.longest_hold = max(self.longest_hold, took)
            self.longest_aside = max(self.longest_aside, time.perf_counter() - started)
            self._graph_changed(len(ids), True)
        log.info("index: built a graph of %d samples aside in %.1f s", count, time.perf_counter() - started)
        return len(ids)

    def _graph_samples(self) -> tuple[np.ndarray, np.ndarray]:
        """The graph's live samples that are not also in the tail: (ids, vectors)."""
        with self._lock.read():
            if self._index is None or not self._graph_count:
                return np.empty(0, np.int64), np.empty((0, DESCRIPTOR_DIM), np.float32)
            labels = self._index.get_ids_list()
            with self._tail_lock:
                keep = [i for i in labels if i in self._live and i not in self._tail and i not in self._unmarked]
            vectors = read_vectors(self._index, keep)
        return np.asarray(keep, np.int64), vectors

    def _graph_changed(self, folded: int, marked: bool = False) -> None:
        """(tail lock held) Note that the graph differs from its file."""
        if folded or marked:
            self._folded += folded
            if self._changed_at is None:
                self._changed_at = time.monotonic()

    def settle(self, timeout: float | None = None) -> bool:
        """Wait until the graph holds every sample (the tail is empty); False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._tail_lock:
                if not len(self._tail) and not self._unmarked:
                    return True
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(0.01)

    # -- queries --------------------------------------------------------------------------------
    def knn(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest samples: (ids, Euclidean distances), nearest first."""
        vector = np.asarray(vector, dtype=np.float32).reshape(DESCRIPTOR_DIM)
        with self._tail_lock:
            tail = self._tail.view()
            extra = len(self._unmarked)  # graph hits that will be filtered out
            k = min(int(k), len(self._live))
        if k <= 0:
            return np.empty(0, np.int64), np.empty(0, np.float32)
        graph_ids, graph_dist = self._graph_knn(vector, k + extra)
        tail_ids, tail_dist = nearest(tail, vector, k)
        ids = np.concatenate([graph_ids, tail_ids])
        dist = np.concatenate([graph_dist, tail_dist])
        order = np.argsort(dist, kind="stable")
        ids, dist = ids[order], dist[order]
        _, first = np.unique(ids, return_index=True)  # mid-fold a sample may be in both tiers
        keep = np.zeros(len(ids), bool)
        keep[first] = True
        with self._tail_lock:
            keep &= np.fromiter((i in self._live for i in ids.tolist()), bool, len(ids))
        return ids[keep][:k], dist[keep][:k]

    def _graph_knn(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        with self._lock.read():
            k = min(k, self._graph_count)
            if k <= 0 or self._index is None:
                return np.empty(0, np.int64), np.empty(0, np.float32)
            while True:  # hnswlib searches with max(ef, k): no set_ef (a write) for a wide query
                try:
                    labels, sq = self._index.knn_query(vector.reshape(1, DESCRIPTOR_DIM), k=k)
                    break
                except RuntimeError:  # fewer than k reachable (deleted elements): ask for fewer
                    if k == 1:
                        return np.empty(0, np.int64), np.empty(0, np.float32)
                    k = max(1, k // 2)
        return labels[0].astype(np.int64), np.sqrt(np.maximum(sq[0], 0)).astype(np.float32)

    def within(self, vector: np.ndarray, distance: float, limit: int = 100_000) -> tuple[np.ndarray, np.ndarray]:
        """Every sample within ``distance`` (Euclidean), nearest first, widening k as needed."""
        k = 32
        while True:
            ids, dist = self.knn(vector, k)
            if len(ids) < k or (len(dist) and dist[-1] > distance) or k >= limit:
                keep = dist <= distance
                return ids[keep], dist[keep]
            k *= 4

    # -- persistence ----------------------------------------------------------------------------
    def stamp_path(self) -> Path:
        assert self.path is not None
        return self.path.with_name(self.path.name + ".stamp.json")

    def _next_stamp_path(self) -> Path:
        return self.stamp_path().with_suffix(".next")

    def close(self) -> None:
        """Stop the folder, fold a small tail, and write the graph if it changed (the gallery is
        closing). A big tail is left to the database: the next open puts it in the tail again."""
        with self._tail_lock:
            self._closing = True
            self._tail_lock.notify_all()
            folder, self._folder = self._folder, None
        if folder is not None:
            folder.join()
        while self.pending() and self.pending() <= CLOSE_FOLD and self.fold_once():
            pass
        if self._unmarked:
            self.fold_once()
        if self._changed_at is not None:
            self.save()

    def save(self) -> None:
        """Write the graph atomically (temp file, fsync, rename) and stamp it.

        A failed save (disk full, read-only folder) is logged, not raised: the samples are in the
        database, and the next open puts whatever the file lacks in the tail."""
        if self.path is None:
            return
        with self._tail_lock:
            folded, self._folded, self._changed_at = self._folded, 0, None
        try:
            self._save(self.path)
        except OSError as exc:
            with self._tail_lock:  # tried again SAVE_INTERVAL from now (meanwhile the database has it all)
                self._folded += folded
                self._changed_at = time.monotonic()
            log.warning(
                "%s: saving the index failed (%s); it will be repaired from the database on the next start",
                self.path,
                exc.strerror or exc,
            )
            for leftover in (self.path.with_name(self.path.name + ".tmp"), self._next_stamp_path()):
                with contextlib.suppress(OSError):
                    leftover.unlink()

    def _save(self, path: Path) -> None:
        with self._lock.read():  # a save only reads the graph: queries go on meanwhile
            index = self._index if self._index is not None else self._new(64)
            tmp = path.with_name(path.name + ".tmp")
            write_graph(index, tmp)
            os.chmod(tmp, 0o600)  # descriptors are biometric data: owner-only, like the database
            fsync_file(tmp)
            stamp = {
                "format": STAMP_FORMAT,
                "dim": DESCRIPTOR_DIM,
                "space": "l2",
                "count": self._graph_count,
                "sha256": sha256_of(tmp),
                "M": self.params.M,
            }
            # The new stamp goes down first as .next: a crash between the two renames leaves an
            # index that one of the two stamps vouches for, so it is never rebuilt needlessly.
            following = self._next_stamp_path()
            following.touch(0o600)
            following.write_text(json.dumps(stamp))
            fsync_file(following)
            os.replace(tmp, path)
            os.replace(following, self.stamp_path())
            fsync_folder(path.parent)

    def sync(self, ids: np.ndarray, vectors_of: Callable[[list[int]], np.ndarray]) -> str:
        """Make the index hold exactly ``ids`` (the database's samples). Returns what it took:

        'loaded' (the graph file holds exactly them), 'repaired' (samples the file lacks went to
        the tail, samples it has that the database lost are marked deleted), 'rebuilt' (file
        missing, torn, foreign or unreadable: every sample went to the tail, for the folder to
        build the graph anew) or 'built' (no file kept). ``vectors_of(ids)`` returns those
        samples' descriptors, so only what is needed is read.
        """
        want = set(int(i) for i in ids)
        with self._lock.write():
            loaded = self._load(self.path) if self.path is not None else None
            if loaded is not None and not self._agrees(sorted(loaded & want), vectors_of):
                loaded = None
            if loaded is None:
                if self.path is not None and self.path.exists():
                    log.warning(
                        "%s: the index file is damaged or belongs to another gallery; rebuilt it from the database "
                        "(%d samples, searchable at once; the graph is rebuilt in the background)",
                        self.path,
                        len(want),
                    )
                self._index, self._graph_count, loaded = None, 0, set()
                self.last_sync = "built" if self.path is None else "rebuilt"
            else:
                self.last_sync = "loaded" if loaded == want else "repaired"
            for i in loaded - want:
                self._index.mark_deleted(i)  # type: ignore[union-attr]  # loaded: the graph exists
                self._graph_count -= 1
            missing = sorted(want - loaded)
            if self._index is not None:  # room for what the tail holds and then some, now rather than mid-fold
                need = self._index.get_current_count() + len(missing) + max(1024, len(want) // 10)
                if need > self._index.get_max_elements():
                    self._index.resize_index(need)
            with self._tail_lock:
                self._tail, self._live, self._unmarked = FlatTail(), set(want), set()
                self._folded, self._changed_at = 0, None
                if self.last_sync != "loaded":
                    self._graph_changed(0, marked=True)  # the file is to be written again
                if missing:
                    self._tail.append(np.asarray(missing, np.int64), np.asarray(vectors_of(missing), np.float32))
                    self._wake_folder()
            if self.last_sync == "rebuilt":  # a sound (empty) graph file at once, owner-only, in place of a bad one
                self.save()
        return self.last_sync

    def _agrees(self, ids: list[int], vectors_of: Callable[[list[int]], np.ndarray]) -> bool:
        """Do up to SPOT_CHECK of these samples hold the database's vectors?"""
        pick = ids[:: max(1, len(ids) // SPOT_CHECK)][:SPOT_CHECK]
        if not pick:
            return True
        assert self._index is not None  # _load() just set it
        try:
            held = np.asarray(self._index.get_items(pick), np.float32)
        except RuntimeError:
            return False
        return np.array_equal(held, np.asarray(vectors_of(pick), np.float32))

    def _load(self, path: Path) -> set[int] | None:
        """Load the file if its stamp vouches for it: its live labels, else None."""
        try:
            if not path.is_file():
                return None
            digest = sha256_of(path)
            stamp = None
            for candidate in (self.stamp_path(), self._next_stamp_path()):
                with contextlib.suppress(OSError, ValueError):
                    data = json.loads(candidate.read_text())
                    if (
                        isinstance(data, dict)
                        and data.get("sha256") == digest
                        and data.get("format") == STAMP_FORMAT
                        and data.get("dim") == DESCRIPTOR_DIM
                        and data.get("space") == "l2"
                    ):
                        stamp = data
                        break
            if stamp is None:
                return None
            index = hnswlib.Index(space="l2", dim=DESCRIPTOR_DIM)
            index.load_index(str(path), max_elements=0)
            index.set_ef(self.params.ef_search)
            labels = set(int(i) for i in index.get_ids_list())
            live = labels - _deleted_labels(index, labels)
            if len(live) != stamp.get("count"):
                return None
        except (OSError, ValueError, RuntimeError, json.JSONDecodeError, KeyError, TypeError):
            return None
        self._index = index
        self._graph_count = len(live)
        return live


def _deleted_labels(index: hnswlib.Index, labels: set[int]) -> set[int]:
    """Labels marked deleted in a loaded index (hnswlib lists them among its ids, but refuses
    to return their vectors)."""
    deleted = set()
    for label in labels:
        try:
            index.get_items([label])
        except RuntimeError:
            deleted.add(label)
    return deleted


def read_vectors(index: hnswlib.Index, labels: list[int]) -> np.ndarray:
    """The vectors of ``labels`` (float32, one row each), read READ_PIECE at a time so that the
    GIL is let go between pieces."""
    out = np.empty((len(labels), DESCRIPTOR_DIM), np.float32)
    for at in range(0, len(labels), READ_PIECE):
        piece = labels[at : at + READ_PIECE]
        out[at : at + len(piece)] = index.get_items(piece, return_type="numpy")
    return out


def write_graph(index: hnswlib.Index, path: Path, timeout: float = WRITE_TIMEOUT) -> None:
    """``index.save_index(path)``, in a forked child where the system forks.

    hnswlib writes the file holding Python's GIL: 130 MB stopped every other thread of the door
    for 40 ms on a quiet disk, and a 500,000-sample graph (350 MB) for a third of a second or more
    while the disk is busy, identification included. A child forked for it writes its
    copy-on-write snapshot of the graph (the caller's read lock keeps writers out meanwhile), and
    this thread waits for it without the GIL; the fork itself stops the others for ~15 ms. The
    child only writes the file and leaves with os._exit: nothing of this process is run twice.
    A child that fails, crashes or is killed is an OSError, as a failed write is (the door lives
    on); a door killed takes its child with it (_parent_death_signal)."""
    parent, die_with = os.getpid(), _parent_death_signal()  # looked up here: the child must not dlopen
    try:
        pid = os.fork() if hasattr(os, "fork") else -1
    except OSError:  # no memory or process slot left for a child: written here, the GIL held
        pid = -1
    if pid < 0:
        index.save_index(str(path))
        return
    if pid == 0:  # the child: write, and leave without running anything of the parent's
        code = 1
        try:
            if die_with is not None:  # killed with the door, so a door killed mid-save leaves no writer behind
                die_with(PR_SET_PDEATHSIG, signal.SIGKILL)
            if os.getppid() != parent:  # it died before the signal was asked for
                os._exit(1)
            faulthandler.disable()  # a crash here is the parent's OSError, not a second "Fatal Python error" in its log
            index.save_index(str(path))
            code = 0
        finally:
            os._exit(code)
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:  # stuck (a lock some other thread held at the fork): never wait forever
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise OSError(f"writing the index graph did not finish in {timeout:g} s in its child process")
        time.sleep(0.02)
    if os.waitstatus_to_exitcode(status) != 0:
        raise OSError(f"writing the index graph failed in its child process (status {os.waitstatus_to_exitcode(status)})")


def _parent_death_signal() -> Callable[[int, int], int] | None:
    """Linux's prctl, through which write_graph's child asks to be killed with the door that
    forked it: a writer left behind would race the restarted door's next save on the same
    temporary file. None where there is none."""
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
