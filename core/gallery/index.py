"""An hnswlib index over every enrolled sample: a cache of the database, never the truth.

- hnswlib's 'l2' space returns SQUARED distances; this class speaks Euclidean (0.4 = 0.16).
- hnswlib crashes when add_items and knn_query overlap, so adding and deleting hold a write lock;
  queries, and a save, share a read lock (hnswlib's queries may run together, and a save only
  reads): a save of a large index never holds up identification.
- Saving is deferred (``save_soon``): an enrollment adds to the index in memory and returns; a
  saver thread writes the file a moment later, once for a burst of changes. The database is the
  journal: a kill before the save leaves a stale stamp, and the next open adds what is missing.
- saveIndex writes in place with no fsync, so we save to a temporary file, fsync, rename, and
  write a stamp (generation, count, SHA-256 of the file). On open, a missing, torn, foreign or
  stale file is detected from the stamp: a stale one is repaired from the database's ids (cheap),
  a bad one rebuilt from the database (100k samples: about 90 s here).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import hnswlib
import numpy as np

from core.gallery.files import fsync_file, fsync_folder, sha256_of
from core.records import DESCRIPTOR_DIM

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy.typing as npt

STAMP_FORMAT = 1
#: Seconds a deferred save waits, so a burst of enrollments (a first sync) is written once.
SAVE_DELAY = 0.5
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
        self._lock = ReadWriteLock()
        self._index: hnswlib.Index | None = None
        self._live: set[int] = set()
        self.last_sync = "empty"
        self._save_cond = threading.Condition()
        self._pending: int | None = None  # the generation a deferred save is to write
        self._saver: threading.Thread | None = None
        self._closing = False

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
        """Replace the index with exactly these samples."""
        with self._lock.write():
            self._index = self._new(int(len(ids) * 1.25) + 64)
            self._live = set()
            self.add(ids, vectors)

    def add(self, ids: npt.ArrayLike, vectors: npt.ArrayLike) -> None:
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        vectors = np.asarray(vectors, dtype=np.float32).reshape(-1, DESCRIPTOR_DIM)
        if len(ids) == 0:
            return
        with self._lock.write():
            if self._index is None:
                self._index = self._new(int(len(ids) * 1.25) + 64)
            need = self._index.get_current_count() + len(ids)
            if need > self._index.get_max_elements():
                self._index.resize_index(int(need * 1.5) + 64)
            self._index.add_items(vectors, ids, num_threads=2)
            self._live.update(int(i) for i in ids)

    def reserve(self, extra: int) -> None:
        """Make room for ``extra`` more samples in one resize (a first sync says how many are
        coming): resizing copies the whole index under the write lock, so it is done while the
        index is small rather than again and again as it grows."""
        with self._lock.write():
            if self._index is None:
                self._index = self._new(int(extra * 1.05) + 64)
            need = self._index.get_current_count() + int(extra)
            if need > self._index.get_max_elements():
                self._index.resize_index(int(need * 1.05) + 64)

    def remove(self, ids: Iterable[int]) -> None:
        with self._lock.write():
            for i in ids:
                i = int(i)
                if i in self._live and self._index is not None:
                    with contextlib.suppress(RuntimeError):
                        self._index.mark_deleted(i)
                    self._live.discard(i)

    def __len__(self) -> int:
        return len(self._live)

    def ids(self) -> set[int]:
        with self._lock.read():
            return set(self._live)

    # -- queries --------------------------------------------------------------------------------
    def knn(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest samples: (ids, Euclidean distances), nearest first."""
        vector = np.asarray(vector, dtype=np.float32).reshape(1, DESCRIPTOR_DIM)
        with self._lock.read():
            k = min(int(k), len(self._live))
            if k <= 0 or self._index is None:
                return np.empty(0, np.int64), np.empty(0, np.float32)
            while True:  # hnswlib searches with max(ef, k): no set_ef (a write) for a wide query
                try:
                    labels, sq = self._index.knn_query(vector, k=k)
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

    def save_soon(self, generation: int) -> None:
        """Save in a moment, on the saver thread (once for a burst of changes): what an
        enrollment calls, so it never waits for a file to be written."""
        if self.path is None:
            return
        with self._save_cond:
            self._pending = generation
            if self._saver is None:
                self._saver = threading.Thread(target=self._save_later, name="index-saver", daemon=True)
                self._saver.start()
            self._save_cond.notify_all()

    def _save_later(self) -> None:
        while True:
            with self._save_cond:
                while self._pending is None and not self._closing:
                    self._save_cond.wait()
                if self._pending is None:
                    return
                if not self._closing:
                    self._save_cond.wait(SAVE_DELAY)  # let the rest of a burst arrive
                generation, self._pending = self._pending, None
            if generation is not None:
                self.save(generation)

    def close(self) -> None:
        """Write what is pending and stop the saver (the gallery is closing)."""
        with self._save_cond:
            self._closing = True
            self._save_cond.notify_all()
            saver, self._saver = self._saver, None
        if saver is not None:
            saver.join()
        with self._save_cond:
            generation, self._pending = self._pending, None
        if generation is not None:
            self.save(generation)

    def save(self, generation: int) -> None:
        """Write the index atomically (temp file, fsync, rename) and stamp it with ``generation``.

        A failed save (disk full, read-only folder) is logged, not raised: the change it follows
        is already committed to the database, the old file keeps its old stamp, so the next open
        sees it stale and repairs it."""
        if self.path is None:
            return
        try:
            self._save(self.path, generation)
        except OSError as exc:
            log.warning(
                "%s: saving the index failed (%s); it will be repaired from the database on the next start",
                self.path,
                exc.strerror or exc,
            )
            for leftover in (self.path.with_name(self.path.name + ".tmp"), self._next_stamp_path()):
                with contextlib.suppress(OSError):
                    leftover.unlink()

    def _save(self, path: Path, generation: int) -> None:
        with self._lock.read():  # a save only reads the index: queries go on meanwhile
            index = self._index if self._index is not None else self._new(64)
            tmp = path.with_name(path.name + ".tmp")
            index.save_index(str(tmp))
            os.chmod(tmp, 0o600)  # descriptors are biometric data: owner-only, like the database
            fsync_file(tmp)
            stamp = {
                "format": STAMP_FORMAT,
                "dim": DESCRIPTOR_DIM,
                "space": "l2",
                "generation": int(generation),
                "count": len(self._live),
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

    def sync(self, ids: np.ndarray, vectors_of: Callable[[list[int]], np.ndarray], generation: int) -> str:
        """Make the index hold exactly ``ids`` (the database's samples). Returns what it took:

        'loaded' (file current), 'repaired' (file stale: missing ids added, removed ones
        deleted), 'rebuilt' (file missing, torn, foreign or unreadable) or 'built' (no file kept).
        ``vectors_of(ids)`` returns those samples' descriptors, so only what is needed is read.
        """
        want = set(int(i) for i in ids)
        with self._lock.write():
            loaded = self._load(self.path) if self.path is not None else None
            if loaded is not None and not self._agrees(sorted(loaded[1] & want), vectors_of):
                loaded = None
            if loaded is None:
                if self.path is not None and self.path.exists():
                    log.warning(
                        "%s: the index file is damaged or belongs to another gallery; rebuilt it from the database (%d samples)",
                        self.path,
                        len(want),
                    )
                self.build(np.asarray(sorted(want), np.int64), vectors_of(sorted(want)))
                self.last_sync = "built" if self.path is None else "rebuilt"
                self.save(generation)
                return self.last_sync
            stamp_generation, labels = loaded
            if stamp_generation == generation and labels == want:
                self.last_sync = "loaded"
                return self.last_sync
            missing = sorted(want - labels)
            self.remove(labels - want)
            if missing:
                self.add(np.asarray(missing, np.int64), vectors_of(missing))
            self.last_sync = "repaired"
            self.save(generation)
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

    def _load(self, path: Path) -> tuple[int, set[int]] | None:
        """Load the file if its stamp vouches for it: (stamp generation, live labels), else None."""
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
            deleted = _deleted_labels(index, labels)
            live = labels - deleted
            if len(live) != stamp.get("count"):
                return None
        except (OSError, ValueError, RuntimeError, json.JSONDecodeError, KeyError, TypeError):
            return None
        self._index = index
        self._live = live
        return int(stamp.get("generation", -1)), set(live)


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
