"""Play a recorded video through the live loop and the door decision exactly as the window does
(same wiring, same settings from the gallery), with a simulated door, as fast as it goes.

For users: try the door's settings on a recorded attempt (a visitor, a photo held up to the
camera) before trusting them. Read-only on the gallery unless ``log`` is set: the decisions the
access log would have received are kept in memory instead.

The window's descriptors come back from the worker process on the next frame when it keeps up
with a camera; played as fast as it goes, a video would outrun the worker and the decisions
would depend on the machine's speed. So replay waits for each frame's descriptors before the
next frame (NextFrame), and times the frames by the video's own clock (as a camera playing it
would): the same video gives the same visits on any machine.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from core.door.base import DoorSettings
from core.door.decide import DecisionSettings
from core.live.loop import LiveRecognizer, LiveSettings
from core.live.sources import FrameSource
from core.station.visits import Visit, VisitLog
from core.station.wiring import attach_decider, simulated_door


@dataclass
class ReplayReport:
    video: str
    frames: int
    visits: list[Visit]
    unlocks: int          # visits whose unlock the (simulated) door accepted

    def as_dict(self) -> dict:
        return {"video": self.video, "frames": self.frames, "visits": [v.as_dict() for v in self.visits],
                "unlocks": self.unlocks}


class NextFrame:
    """A descriptor worker whose results all arrive on the frame after they were asked for."""

    def __init__(self, worker, timeout: float = 10.0) -> None:
        self.worker, self.timeout = worker, timeout

    def submit(self, key, chip) -> bool:
        return self.worker.submit(key, chip)

    def poll(self) -> list:
        done = self.worker.poll()
        deadline = time.monotonic() + self.timeout
        while self.worker.in_flight and time.monotonic() < deadline:
            time.sleep(0.001)
            done += self.worker.poll()
        return done

    def __getattr__(self, name):  # in_flight, restarts, error, pid, close: the worker's own
        return getattr(self.worker, name)


def replay(video: str | Path, gallery, live: LiveSettings | None = None, decision: DecisionSettings | None = None,
           log: bool = False, worker=None) -> ReplayReport:
    """Every visit in ``video`` and the unlocks, as the window would have decided them."""
    if worker is None:
        from core.live.worker import ProcessWorker

        worker = ProcessWorker(gallery.describer.model_dir)
    recognizer = LiveRecognizer(gallery, live, descriptor_worker=NextFrame(worker))
    door = simulated_door(DoorSettings.load_or_default(gallery.store)[0])
    decider = attach_decider(recognizer, door, decision, dry_run=not log, inline_texture=True)
    visits, frames = VisitLog(), 0
    try:
        with FrameSource(str(video), pace=False, loop=False) as source:
            recognizer.reset()  # what the window's capture thread does with a newly opened source
            for frame in iter(source.read, None):  # timed by the video's clock, not the machine's
                visits.observe(frame.index, recognizer.process(frame.rgb, frame.index / source.fps))
                frames += 1
    finally:
        recognizer.close()
        decider.close()
        door.close()
    return ReplayReport(str(video), frames, visits.visits, visits.unlocks)
