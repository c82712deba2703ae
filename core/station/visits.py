"""What happened at the door on a video, visit by visit (one tracked face from arrival to leaving):
who, the verdict and why, the liveness cue, the distances, and whether the door was unlocked.

Folded from the live loop's FrameResults, so it reads the same decisions the window draws.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.live.loop import FrameResult


@dataclass
class Visit:
    track: int
    first_frame: int
    last_frame: int
    person: str | None = None
    verdict: str = ""
    reason: str = ""  # the decision's; for a face never judged, the quality gate it failed
    liveness: str = ""  # the cue that passed ("turned: parallax 0.31"), or what is awaited
    distance: float | None = None  # the decision's (the worst of the agreeing identifications)
    margin: float | None = None
    nearest: float | None = None  # the smallest distance of any identification in the visit
    door: str = ""  # the door's answer to this visit's unlock, if any
    unlocked: bool = False

    def as_dict(self) -> dict:
        return asdict(self)

    def line(self) -> str:
        def num(x: float | None) -> str:
            return "-" if x is None else f"{x:.3f}"

        return (
            f"track {self.track:>3}  frames {self.first_frame}-{self.last_frame}  {self.person or 'unknown'}  "
            f"{self.verdict}{' (door ' + self.door + ')' if self.door else ''}  distance {num(self.distance)} "
            f"margin {num(self.margin)} nearest {num(self.nearest)}  liveness: {self.liveness or '-'}  "
            f"reason: {self.reason}"
        )


class VisitLog:
    """Feed it each processed frame's index and FrameResult; ``visits`` in order of arrival."""

    def __init__(self) -> None:
        self._visits: dict[int, Visit] = {}
        self.unlocks = 0

    @property
    def visits(self) -> list[Visit]:
        return list(self._visits.values())

    def observe(self, index: int, result: FrameResult) -> None:
        for view in result.tracks:
            visit = self._visits.get(view.id)
            if visit is None:
                visit = self._visits[view.id] = Visit(view.id, index, index)
            visit.last_frame = index
            if view.distance is not None and (visit.nearest is None or view.distance < visit.nearest):
                visit.nearest = round(float(view.distance), 4)
            d = view.decision
            if d is None:
                if view.state == "poor" and not visit.verdict:  # never judged: say why ("too far")
                    visit.reason = view.label
                continue
            visit.person, visit.verdict, visit.reason, visit.door = d.person, d.verdict, d.reason, d.door
            visit.liveness = d.liveness or visit.liveness
            visit.distance = None if d.distance is None else round(float(d.distance), 4)
            visit.margin = None if d.margin is None else round(float(d.margin), 4)
            if d.door == "unlocking" and not visit.unlocked:
                visit.unlocked = True
                self.unlocks += 1
