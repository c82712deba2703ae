"""Play a recorded video through the live loop and the door decision exactly as the window does
(the same Station: the gallery's detector, smallest face, quality gates, decision settings and
every gate, the site's offline policy too), with a simulated door, as fast as it goes.

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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.door.policy import DecisionSettings
from core.gallery.api import Gallery
from core.live.loop import FrameResult, LiveSettings
from core.live.sources import FrameSource
from core.station.station import Station
from core.station.visits import Visit, VisitLog

if TYPE_CHECKING:
    import numpy as np

    from core.live.worker import ChipKey, DescriptorWorker


@dataclass
class ReplayReport:
    video: str
    frames: int
    visits: list[Visit]
    unlocks: int  # visits whose unlock the (simulated) door accepted

    def as_dict(self) -> dict:
        return {"video": self.video, "frames": self.frames, "visits": [v.as_dict() for v in self.visits], "unlocks": self.unlocks}


class NextFrame:
    """A descriptor worker whose results all arrive on the frame after they were asked for."""

    def __init__(self, worker: DescriptorWorker, timeout: float = 10.0) -> None:
        self.worker, self.timeout = worker, timeout

    def submit(self, key: ChipKey, chip: np.ndarray) -> bool:
        return self.worker.submit(key, chip)

    def poll(self) -> list:
        done = self.worker.poll()
        deadline = time.monotonic() + self.timeout
        while self.worker.in_flight and time.monotonic() < deadline:
            time.sleep(0.001)
            done += self.worker.poll()
        return done

    def __getattr__(self, name: str) -> Any:  # in_flight, restarts, error, pid, close: the worker's own
        return getattr(self.worker, name)


def replay(
    video: str | Path,
    gallery: Gallery,
    live: LiveSettings | None = None,
    decision: DecisionSettings | None = None,
    log: bool = False,
    worker: Any = None,
    threshold: float | None = None,
    on_frame: Callable[[int, FrameResult, tuple[int, int]], None] | None = None,
) -> ReplayReport:
    """Every visit in ``video`` and the unlocks, as the window would have decided them. ``live``:
    the loop's defaults under the stored settings (tests lengthen its timeouts); ``decision`` and
    ``threshold``: try other decision settings or another live threshold than the stored ones;
    ``on_frame(index, result, (height, width))`` sees each frame's FrameResult (facegate eval-video)."""
    if worker is None:
        from core.live.worker import ProcessWorker

        worker = ProcessWorker(gallery.describer.model_dir)
    station = Station.for_replay(gallery, NextFrame(worker), log=log, live=live)
    recognizer = station.recognizer
    if decision is not None:
        station.decider.settings = decision
    if threshold is not None:
        recognizer.update_settings(threshold=threshold)
    visits, frames = VisitLog(), 0
    try:
        with FrameSource(str(video), pace=False, loop=False) as source:
            recognizer.reset()  # what the window's capture thread does with a newly opened source
            for frame in iter(source.read, None):  # timed by the video's clock, not the machine's
                result = recognizer.process(frame.rgb, frame.index / source.fps)
                visits.observe(frame.index, result)
                if on_frame is not None:
                    on_frame(frame.index, result, frame.rgb.shape[:2])
                frames += 1
    finally:
        station.close()
    return ReplayReport(str(video), frames, visits.visits, visits.unlocks)
