"""Enrollment across head poses, so people are named as they turn in.

Samples all taken facing the camera leave a person 0.47-0.56 from their samples while they turn
towards the door (measured on the clip), over the strict 0.4; so the enrollment asks for a few
poses - straight, a little left, right, up and down (core.vision.pose, from the 68 landmarks) -
and takes up to ``per_pose`` samples of each. A person cannot always show all of them (the clip
only has the poses Lin-Manuel happens to show), so the straight pose is required (it anchors up
and down) and the others are taken as they come: the enrollment is complete when every pose has
its samples, or when ``pose_wait`` seconds have passed with the straight pose and enough
samples in; the missing poses are named to the operator and in the log.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.vision.pose import POSES, HeadPose


@dataclass
class PoseBook:
    """The poses an enrollment has taken samples of, and what it still wants."""

    per_pose: int = 2
    taken: dict[str, int] = field(default_factory=dict)
    straight_pitch: float | None = None  # the person's own level, for up and down

    def name(self, pose: HeadPose | None) -> str | None:
        return pose.name(self.straight_pitch) if pose is not None else None

    def why_not(self, name: str | None, collected: int = 0, wanted: int = 0) -> str | None:
        """Why a frame in this pose is not wanted, in the operator's words; None when it is. A pose
        that has its samples still gives more while fewer than ``wanted`` are taken in all (a
        person who shows one pose is enrolled in that pose rather than not at all)."""
        if name is None:
            return "between poses"
        if self.taken.get(name, 0) >= self.per_pose and collected >= wanted:
            return f"enough {name} samples; " + (f"now {', '.join(self.missing)}" if self.missing else "hold still")
        return None

    def add(self, name: str, pose: HeadPose) -> None:
        self.taken[name] = self.taken.get(name, 0) + 1
        if name == "straight" and self.straight_pitch is None:
            self.straight_pitch = pose.pitch

    @property
    def missing(self) -> list[str]:
        return [p for p in POSES if not self.taken.get(p)]

    @property
    def every_pose(self) -> bool:
        return all(self.taken.get(p, 0) >= self.per_pose for p in POSES)

    def summary(self) -> str:
        """'straight 2, left 2, right 1; no up, down pose'."""
        taken = ", ".join(f"{p} {self.taken[p]}" for p in POSES if self.taken.get(p))
        return taken + (f"; no {', '.join(self.missing)} pose" if self.missing else "")
