"""Descriptor computation off the caller's interpreter.

dlib's compute_face_descriptor holds the GIL for ~15-18 ms per face: run in a thread of the GUI
process it would stall the event loop. ProcessWorker runs it in a worker process fed with
150x150 aligned chips (67 kB each, not whole frames) through a pipe; the caller polls for
finished descriptors without blocking. InlineWorker computes in the caller's thread, for scripts
and tests that do not care about the GUI. Both are DescriptorWorkers and Qt-free.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from core.processes import ChildProcess
from core.vision.describe import Describer

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

#: Which chip a descriptor belongs to: (track id, frame number).
ChipKey = tuple[int, int]
Result = tuple[ChipKey, np.ndarray | None, str | None]  # (key, descriptor or None, error)

#: One BLAS thread in the worker process. One chip at a time gains nothing from more, and
#: OpenBLAS's spinning helper threads fight the capture thread for the CPU: measured here on 2
#: busy cores, a descriptor's round trip fell from 400-650 ms to one frame (60-150 ms).
SINGLE_THREADED_BLAS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


class DescriptorWorker(Protocol):
    """What the live loop needs from whatever computes descriptors.

    ``restarts`` counts restarts after the worker died; ``error`` says why it gave up (None
    while it works); ``in_flight`` is how many chips are waiting for their descriptor; ``pid``
    the worker process's id (None when descriptors are computed in the caller's process)."""

    restarts: int
    error: str | None

    @property
    def in_flight(self) -> int: ...

    @property
    def pid(self) -> int | None: ...

    def submit(self, key: ChipKey, chip: np.ndarray) -> bool:
        """Queue a chip; False when the worker is busy (try again on a later frame)."""
        ...

    def poll(self) -> list[Result]:
        """The descriptors finished since the last poll, without waiting."""
        ...

    def close(self) -> None: ...


class InlineWorker:
    """Computes each descriptor when submitted; poll() hands them back."""

    def __init__(self, describer: Describer | None = None) -> None:
        self.describer = describer or Describer()
        self.restarts = 0
        self.error: str | None = None
        self._done: list[Result] = []

    def submit(self, key: ChipKey, chip: np.ndarray) -> bool:
        try:
            self._done.append((key, self.describer.descriptor_from_chip(chip), None))
        except Exception as exc:  # a bad chip must not stop the video
            self._done.append((key, None, str(exc)))
        return True

    def poll(self) -> list[Result]:
        done, self._done = self._done, []
        return done

    @property
    def in_flight(self) -> int:
        return 0

    @property
    def pid(self) -> int | None:
        return None

    def close(self) -> None:
        self._done = []


def _serve(conn: Connection, model_dir: str | None) -> None:
    """The worker process: chips in, descriptors out, until told to stop or the pipe closes."""
    describer = Describer(model_dir)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        key, shape, raw = job
        try:
            chip = np.frombuffer(raw, dtype=np.uint8).reshape(shape)
            conn.send((key, describer.descriptor_from_chip(chip).tobytes(), None))
        except Exception as exc:
            conn.send((key, None, str(exc)))


class ProcessWorker:
    """One worker process computing descriptors; restarted if it dies.

    ``max_in_flight`` bounds the backlog: when the worker is busy, submit() returns False and
    the caller tries again on a later frame, so latency never piles up behind old frames.
    """

    #: A worker that dies this soon after starting, this many times in a row, is not restarted again.
    QUICK_DEATH_S = 5.0
    MAX_QUICK_DEATHS = 3

    def __init__(self, model_dir: str | Path | None = None, max_in_flight: int = 4) -> None:
        self.model_dir = str(model_dir) if model_dir else None
        self.max_in_flight = max_in_flight
        self.restarts = 0
        self.error: str | None = None  # set when the worker cannot be kept running
        self._quick_deaths = 0
        self._lock = threading.Lock()
        self._pending: set[ChipKey] = set()
        self._waiting_since: float | None = None  # monotonic time pending work last saw progress
        self._child = self._start()

    def _start(self) -> ChildProcess:
        self._pending = set()
        self._waiting_since = None
        return ChildProcess(_serve, (self.model_dir,), "facegate-describer", env=SINGLE_THREADED_BLAS)

    @property
    def in_flight(self) -> int:
        return len(self._pending)

    @property
    def pid(self) -> int | None:
        return self._child.pid

    def alive(self) -> bool:
        return self._child.alive()

    def stalled_for(self) -> float:
        """Seconds submitted chips have waited with no descriptor coming back (0 when none wait):
        a worker that is alive but stuck shows here, not in alive(). An answer waiting in the
        pipe counts as coming back (the frame loop collects it with the next frame, and with the
        camera gone there may be no next frame for a while)."""
        since = self._waiting_since
        if since is None or not self._lock.acquire(blocking=False):  # locked: being collected now
            return 0.0
        try:
            answered = self._child.conn.poll()
        except (EOFError, OSError):
            answered = False
        finally:
            self._lock.release()
        return 0.0 if answered else time.monotonic() - since

    def submit(self, key: ChipKey, chip: np.ndarray) -> bool:
        with self._lock:
            if self.error or len(self._pending) >= self.max_in_flight:
                return False
            chip = np.ascontiguousarray(chip, dtype=np.uint8)
            try:
                self._child.conn.send((key, chip.shape, chip.tobytes()))
            except (BrokenPipeError, OSError):
                self._restart()
                return False
            if not self._pending:
                self._waiting_since = time.monotonic()
            self._pending.add(key)
            return True

    def poll(self) -> list[Result]:
        out: list[Result] = []
        with self._lock:
            try:
                while self._child.conn.poll():
                    key, raw, error = self._child.conn.recv()
                    self._pending.discard(key)
                    self._waiting_since = time.monotonic() if self._pending else None
                    vec = np.frombuffer(raw, dtype=np.float32).copy() if raw is not None else None
                    out.append((key, vec, error))
            except (EOFError, OSError):
                pass
            if not self.error and not self._child.alive():
                out.extend((key, None, "the descriptor worker stopped") for key in self._pending)
                self._restart()
        return out

    def _restart(self) -> None:
        quick = time.monotonic() - self._child.started < self.QUICK_DEATH_S
        self._quick_deaths = self._quick_deaths + 1 if quick else 0
        self._child.stop(timeout=3)
        if self._quick_deaths >= self.MAX_QUICK_DEATHS:
            self._pending = set()
            self.error = (
                f"the descriptor worker process stopped {self._quick_deaths} times right after "
                f"starting (exit code {self._child.exitcode}); faces cannot be recognised"
            )
            return
        self.restarts += 1
        self._child = self._start()

    def close(self) -> None:
        with self._lock:
            if not self.error:
                self._child.stop(timeout=3)
