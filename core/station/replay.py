"""Play a recorded video through the live loop and the door decision exactly as the window does
(same wiring, same settings from the gallery), with a simulated door, as fast as it goes.

For users: try the door's settings on a recorded attempt (a visitor, a photo held up to the
camera) before trusting them. Read-only on the gallery unless ``log`` is set: the decisions the
access log would have received are kept in memory instead.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.door.base import DoorSettings
from core.door.decide import DecisionSettings
from core.live.loop import LiveRecognizer, LiveSettings
from core.live.sources import FrameSource
from core.station.visits import Visit, VisitLog
from core.station.wiring import KeptLog, attach_decider, simulated_door, stored


@dataclass
class ReplayReport:
    video: str
    frames: int
    visits: list[Visit]
    unlocks: int          # visits whose unlock the (simulated) door accepted

    def as_dict(self) -> dict:
        return {"video": self.video, "frames": self.frames, "visits": [v.as_dict() for v in self.visits],
                "unlocks": self.unlocks}


def replay(video: str | Path, gallery, live: LiveSettings | None = None, decision: DecisionSettings | None = None,
           log: bool = False, pool=None) -> ReplayReport:
    """Every visit in ``video`` and the unlocks, as the window would have decided them."""
    recognizer = LiveRecognizer(gallery, live, pool=pool)
    door = simulated_door(stored(DoorSettings, gallery.store)[0])
    decider = attach_decider(recognizer, door, decision, access_log=None if log else KeptLog())
    visits, frames = VisitLog(), 0
    try:
        with FrameSource(str(video), pace=False, loop=False) as source:
            recognizer.reset()  # what the window's capture thread does with a newly opened source
            for frame in iter(source.read, None):
                visits.observe(frame.index, recognizer.process(frame.rgb, frame.timestamp))
                frames += 1
    finally:
        recognizer.close()
        decider.close()
        door.close()
    return ReplayReport(str(video), frames, visits.visits, visits.unlocks)
