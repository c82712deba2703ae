"""Enrolling a face from the camera, across head poses, so the person is named as they turn in.

Samples all taken facing the camera leave a person 0.47-0.53 from their samples while they turn
towards the door (measured on the clip), over the strict 0.4; so enrollment asks for a few poses
- straight, a little left, right, up and down (from the 68 landmarks, core.vision.pose) - and
takes up to ``per_pose`` samples of each. A person cannot always show all of them (the clip only
has the poses Lin-Manuel happens to show), so:

- the straight pose is required (it anchors up/down, and it is what the door sees most);
- the enrollment saves as soon as every pose has its samples, or after ``pose_wait`` seconds once
  the straight pose and ``wanted`` samples are in, or when the operator says "save now";
- when time runs out or the face leaves, what was taken is saved if it holds the straight pose
  and at least ``fewest`` samples (the missing poses are named); otherwise nothing is saved.

Times are the frames' timestamps, so a recorded video enrolls the same at any playing speed.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.gallery.store import NewSample
from core.records import Match, Quality
from core.vision.pose import POSES, HeadPose


@dataclass
class EnrollmentProgress:
    name: str
    track_id: int
    collected: int
    needed: int                       # samples wanted (more are taken while poses are missing)
    done: bool = False
    error: str | None = None
    warning: str | None = None
    problems: list[str] = field(default_factory=list)  # why recent frames were not taken
    poses: dict[str, int] = field(default_factory=dict)  # samples taken per pose
    per_pose: int = 2
    can_save: bool = False            # the straight pose is in: the operator may save now

    @property
    def missing(self) -> list[str]:
        """Poses with no sample yet, in the order they are asked for."""
        return [p for p in POSES if not self.poses.get(p)]

    def copy(self) -> EnrollmentProgress:
        return EnrollmentProgress(self.name, self.track_id, self.collected, self.needed, self.done, self.error,
                                  self.warning, list(self.problems), dict(self.poses), self.per_pose, self.can_save)


@dataclass
class EnrollmentRules:
    wanted: int = 5            # samples before an early save (pose_wait) is allowed
    per_pose: int = 2
    pose_wait: float = 3.0     # s after the start: then the straight pose and `wanted` samples are enough
    timeout: float = 10.0      # s: then what was taken is saved (straight pose and `fewest`), or nothing
    fewest: int = 3
    min_gap: int = 6           # frames between two samples
    min_spread: float = 0.05   # a sample must differ this much from those taken


class Enrollment:
    """The samples of one face being enrolled and when they are enough."""

    def __init__(self, name: str, track_id: int, allowed: bool, started: float, rules: EnrollmentRules) -> None:
        self.rules = rules
        self.allowed = allowed
        self.started = started
        self.progress = EnrollmentProgress(name.strip(), track_id, 0, rules.wanted, per_pose=rules.per_pose)
        self.samples: list[NewSample] = []
        self.frames: list[int] = []
        self.straight_pitch: float | None = None

    @property
    def finished(self) -> bool:
        return self.progress.done or self.progress.error is not None

    def offer(self, frame: int, descriptor: np.ndarray, match: Match, thumb: bytes, quality: Quality,
              pose: HeadPose | None) -> bool:
        """Take this frame's face (it passed the quality gates, core.vision.quality, to be described)
        as a sample if it adds a pose or a new look; True if taken."""
        r, p = self.rules, self.progress
        if self.frames and frame - self.frames[-1] < r.min_gap:
            return False
        name = pose.name(self.straight_pitch) if pose is not None else None
        problems = []
        if name is None:
            problems.append("between poses")
        elif p.poses.get(name, 0) >= r.per_pose:
            problems.append(f"enough {name} samples; " + (f"now {', '.join(p.missing)}" if p.missing else "hold still"))
        if problems:
            p.problems = problems
            return False
        if self.samples and min(float(np.linalg.norm(descriptor - x.descriptor)) for x in self.samples) < r.min_spread:
            return False
        if match.name is not None and match.name.casefold() != p.name.casefold():
            p.warning = f"this face already matches {match.name} ({match.distance:.2f}); check the name before saving"
        if name == "straight" and self.straight_pitch is None:
            self.straight_pitch = pose.pitch
        self.samples.append(NewSample(descriptor, thumb, f"camera frame {frame} ({name})", quality.sharpness))
        self.frames.append(frame)
        p.poses[name] = p.poses.get(name, 0) + 1
        p.collected, p.problems, p.can_save = len(self.samples), [], bool(p.poses.get("straight"))
        return True

    def due(self, now: float) -> bool:
        """Enough to save now: every pose has its samples, or the wait for more poses is over."""
        r, p = self.rules, self.progress
        if self.finished or not p.can_save:
            return False
        every_pose = all(p.poses.get(pose, 0) >= r.per_pose for pose in POSES)
        return every_pose or (now - self.started >= r.pose_wait and p.collected >= r.wanted)

    def out_of_time(self, now: float) -> bool:
        return not self.finished and now - self.started > self.rules.timeout

    def last_chance(self, why: str) -> bool:
        """Time ran out or the face left: True when what was taken is worth saving; else sets the error."""
        p = self.progress
        if p.can_save and p.collected >= self.rules.fewest:
            return True
        problems = f" ({', '.join(p.problems)})" if p.problems else ""
        straight = "" if p.can_save else "; it never looked straight at the camera"
        p.error = f"{why} after {p.collected} of {p.needed} samples{straight}{problems}; nothing was saved"
        return False

    def saved(self, person_name: str) -> str:
        """Mark it done; the event line naming the poses taken and those missing."""
        p = self.progress
        p.done = True
        taken = ", ".join(f"{pose} {p.poses[pose]}" for pose in POSES if p.poses.get(pose))
        missing = f"; no {', '.join(p.missing)} pose" if p.missing else ""
        return f"enrolled {person_name} with {len(self.samples)} samples ({taken}{missing})"
