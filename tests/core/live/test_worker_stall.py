"""What the health monitor asks the descriptor worker process: has it stopped answering? A real
worker, a real face chip: an answer that waits in the pipe because no frame came to collect it
(the camera is gone) is not a hang; a worker that cannot run (SIGSTOP) is, and the wait grows."""

from __future__ import annotations

import os
import signal
import time

from core import face_locations
from core.live.worker import ProcessWorker
from core.vision.images import load_image
from tests.support.data import IMAGES


def _until(predicate, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_stalled_for_tells_a_stuck_worker_from_an_answer_nobody_collected(describer):
    rgb = load_image(IMAGES / "obama.jpg")
    (box,) = face_locations(rgb)
    chip, _ = describer.chip(rgb, box)
    worker = ProcessWorker(describer.model_dir)
    try:
        assert worker.stalled_for() == 0.0  # nothing asked
        assert worker.submit((1, 0), chip)
        assert _until(lambda: worker.stalled_for() == 0.0 and worker.in_flight == 1), "the answer never came"
        time.sleep(1.0)  # nobody polls: no frames
        assert worker.stalled_for() == 0.0
        assert [key for key, vec, _ in worker.poll() if vec is not None] == [(1, 0)]

        os.kill(worker.pid, signal.SIGSTOP)  # a worker that cannot answer any more
        assert worker.submit((1, 3), chip)
        time.sleep(1.5)
        assert worker.stalled_for() >= 1.4
        os.kill(worker.pid, signal.SIGCONT)
        assert _until(lambda: worker.stalled_for() == 0.0)
        assert [key for key, _, _ in worker.poll()] == [(1, 3)] and worker.stalled_for() == 0.0
    finally:
        os.kill(worker.pid, signal.SIGCONT)
        worker.close()
