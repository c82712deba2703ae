"""The flat tail of the sample index: samples not yet folded into the HNSW graph, searched
exactly with numpy (core.gallery.index).

Appending costs a copy into a buffer, so a first sync or an enrollment is searchable at once,
however far behind the graph's inserts are. A search works on a snapshot (views of the
buffers): appends write past it and a full buffer is replaced, never rewritten, so a search
never needs the tail's lock while it computes. Not thread-safe otherwise: SampleIndex guards it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.records import DESCRIPTOR_DIM

#: Candidates taken from the fast (dot product) distances before the exact ones are computed,
#: beyond k: float32 rounding there can only swap near-ties at the edge of the top k.
_SPARE = 16
#: Rows an emptied tail keeps its buffers for (a first sync's 500,000 rows are 256 MB).
_KEEP = 65_536


@dataclass
class TailView:
    """What a search reads: rows of the tail at one moment (views, not copies)."""

    ids: np.ndarray
    vectors: np.ndarray
    squares: np.ndarray  # each row's squared norm, for the dot-product distances
    alive: np.ndarray  # False: removed or folded when the view was taken (a copy)


class FlatTail:
    """Samples in arrival order; the fold takes them from the front."""

    def __init__(self) -> None:
        self._empty()

    def _empty(self) -> None:
        """No rows, small buffers (a search still holds the old ones in its view)."""
        self._ids = np.empty(0, np.int64)
        self._vectors = np.empty((0, DESCRIPTOR_DIM), np.float32)
        self._squares = np.empty(0, np.float32)
        self._alive = np.empty(0, bool)
        self._lo = self._hi = 0
        self._row: dict[int, int] = {}  # live sample id -> row in the buffers

    def __len__(self) -> int:
        return len(self._row)

    def __contains__(self, sample_id: int) -> bool:
        return sample_id in self._row

    def append(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        for i in ids.tolist():
            self.discard(i)  # the same sample again: its newest vector counts
        if self._hi + len(ids) > len(self._ids):
            self._regrow(len(ids))
        rows = slice(self._hi, self._hi + len(ids))
        self._ids[rows] = ids
        self._vectors[rows] = vectors
        self._squares[rows] = np.einsum("ij,ij->i", vectors, vectors)
        self._alive[rows] = True
        self._row.update(zip(ids.tolist(), range(self._hi, self._hi + len(ids)), strict=True))
        self._hi += len(ids)

    def reserve(self, extra: int) -> None:
        """Room for ``extra`` more rows now: a regrow copies every live row under the caller's
        lock (a search waits for it), so a first sync makes room once while the tail is small."""
        if self._hi + extra > len(self._ids):
            self._regrow(extra)

    def _regrow(self, extra: int) -> None:
        """New buffers holding the live rows (a search may still read the old ones)."""
        keep = self._lo + np.flatnonzero(self._alive[self._lo : self._hi])
        room = max(1024, 2 * (len(keep) + extra))
        ids, vectors = np.empty(room, np.int64), np.empty((room, DESCRIPTOR_DIM), np.float32)
        squares, alive = np.empty(room, np.float32), np.zeros(room, bool)
        ids[: len(keep)], vectors[: len(keep)], squares[: len(keep)] = self._ids[keep], self._vectors[keep], self._squares[keep]
        alive[: len(keep)] = True
        self._ids, self._vectors, self._squares, self._alive = ids, vectors, squares, alive
        self._lo, self._hi = 0, len(keep)
        self._row = dict(zip(ids[: len(keep)].tolist(), range(len(keep)), strict=True))

    def discard(self, sample_id: int) -> bool:
        """Take a sample out of every later search; False if the tail does not hold it."""
        row = self._row.pop(sample_id, None)
        if row is None:
            return False
        self._alive[row] = False
        return True

    def front(self, count: int) -> tuple[np.ndarray, np.ndarray]:
        """Up to ``count`` of the oldest live samples (copies), for the fold."""
        rows = slice(self._lo, min(self._lo + count, self._hi))
        alive = self._alive[rows]
        return self._ids[rows][alive], self._vectors[rows][alive]

    def drop(self, ids: np.ndarray) -> None:
        """Forget samples the fold put in the graph (by id: the buffers may have been regrown
        since ``front``), and move the front past the rows no longer live."""
        for i in ids.tolist():
            self.discard(i)
        alive = self._alive[self._lo : self._hi]
        self._lo = self._lo + int(np.argmax(alive)) if alive.any() else self._hi
        if not self._row and len(self._ids) > _KEEP:  # emptied: let go of a first sync's buffers
            self._empty()

    def vector(self, sample_id: int) -> np.ndarray | None:
        row = self._row.get(sample_id)
        return None if row is None else self._vectors[row].copy()

    def view(self) -> TailView:
        """The rows now. ``alive`` is a copy (a few hundred kB at 500k rows): a fold that puts a
        sample in the graph after a query searched the graph, and then drops it here, must not hide
        it from that query's search of this view (a removal is filtered out by the caller)."""
        rows = slice(self._lo, self._hi)
        return TailView(self._ids[rows], self._vectors[rows], self._squares[rows], self._alive[rows].copy())


def nearest(view: TailView, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest live rows of ``view``: (ids, exact Euclidean distances), nearest first."""
    if k <= 0 or not len(view.ids):
        return np.empty(0, np.int64), np.empty(0, np.float32)
    # einsum, not BLAS: OpenBLAS's threads stall on a busy 2-core door (a 50k-row product took
    # 16-30 ms through BLAS there, 11 ms through einsum on one thread)
    sq = view.squares - 2 * np.einsum("ij,j->i", view.vectors, vector) + float(vector @ vector)
    sq[~view.alive] = np.inf
    take = min(len(sq), k + _SPARE)
    pick = np.argpartition(sq, take - 1)[:take] if take < len(sq) else np.arange(len(sq))
    pick = pick[np.isfinite(sq[pick])]
    exact = np.linalg.norm(view.vectors[pick] - vector, axis=1).astype(np.float32)
    order = np.argsort(exact, kind="stable")[:k]
    return view.ids[pick[order]], exact[order]
