"""Enrollment across head poses, so people are named as they turn in.

Samples all taken facing the camera leave a person 0.47-0.56 from their samples while they turn
towards the door (measured on the clip), over the strict 0.4; so the enrollment asks for a few
poses - straight, a little left, right, up and down (core.vision.pose, from the 68 landmarks) -
and takes up to ``per_pose`` samples of each. A person cannot always show all of them (the clip
only has the poses Lin-Manuel happens to show), so the straight pose is required (it anchors up
and down) and the others are taken as they come: the enrollment is complete when every pose has
its samples, or when ``pose_wait`` seconds have passed with the straight pose and enough
samples in; the missing poses are named to the operator and in the log.

``Enrollment`` is one enrollment in progress, apart from the frame loop (core.live.loop) that feeds
it each frame's results: which track it follows, the samples it takes, finding the face again when
its track breaks, and saving. It writes the gallery, so it is a security boundary: it samples only
the face it follows, never while that face is lost (the box may hold someone else by then).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from core.gallery.api import Gallery
from core.gallery.store import NewSample
from core.records import Match, Quality
from core.vision.pose import POSES, HeadPose

log = logging.getLogger("facegate.enroll")  # each enrollment's outcome goes to the log file (core.logs)

#: a chip of the enrolled face sent to be described: its JPEG, quality and head pose
Chip = tuple[bytes, Quality, HeadPose | None]


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


class EnrollRules(Protocol):
    """The numbers an enrollment follows (core.live.loop.LiveSettings has them all, explained)."""

    @property
    def threshold(self) -> float: ...
    @property
    def enroll_samples(self) -> int: ...
    @property
    def enroll_per_pose(self) -> int: ...
    @property
    def enroll_pose_wait(self) -> float: ...
    @property
    def enroll_timeout(self) -> float: ...
    @property
    def enroll_min_gap(self) -> int: ...
    @property
    def enroll_min_spread(self) -> float: ...
    @property
    def enroll_max(self) -> int: ...
    @property
    def enroll_rejoin(self) -> float: ...
    @property
    def enroll_wait(self) -> float: ...
    @property
    def enroll_min_keep(self) -> int: ...


@dataclass
class EnrollmentProgress:
    name: str
    track_id: int
    collected: int
    needed: int
    done: bool = False
    error: str | None = None
    warning: str | None = None
    problems: list[str] = field(default_factory=list)  # why recent frames were not taken
    lost: bool = False  # the face left the picture: FaceGate looks for it again (any new track)
    can_save: bool = False  # enough good samples to save now (save_enrollment), or go on when it is back
    poses: dict[str, int] = field(default_factory=dict)  # samples taken per head pose

    @property
    def missing(self) -> list[str]:
        """Head poses with no sample yet, in the order they are asked for."""
        return [p for p in POSES if not self.poses.get(p)]


class Enrollment:
    """One enrollment in progress. The loop tells it what happened to the faces each frame
    (follows/gated/chip/described/lose/tick); the methods that may save return the event line to
    show when they did, so the loop can re-identify its tracks against the new person."""

    def __init__(
        self,
        gallery: Gallery,
        rules: EnrollRules,
        name: str,
        track_id: int,
        allowed: bool,
        reference: np.ndarray | None,
        lost_at: float | None = None,
    ) -> None:
        """``reference`` is the face's descriptor when it was clicked (None before its first);
        ``lost_at`` starts it looking for a face whose track has just ended."""
        self.gallery = gallery
        self.rules = rules  # the loop replaces it when the settings change
        self.progress = EnrollmentProgress(name.strip(), track_id, 0, rules.enroll_samples, lost=lost_at is not None)
        self.allowed = allowed
        self.started: float | None = None  # frame timestamps (the next frame's when it starts)
        self.lost_at = lost_at
        self.reference = [] if reference is None else [reference]
        self.samples: list[NewSample] = []
        self.frames: list[int] = []
        self.poses = PoseBook()
        self._chips: dict[tuple[int, int], Chip] = {}  # (track id, frame) -> chip sent to be described
        if lost_at is None:
            log.info("enrolling %s: started on track %d", self.progress.name, track_id)
        else:
            log.info("enrolling %s: started on track %d, which has just left; looking for it again", self.progress.name, track_id)

    @property
    def finished(self) -> bool:
        return self.progress.done or self.progress.error is not None

    def snapshot(self) -> EnrollmentProgress:
        """A copy of the progress for another thread (the window) to read."""
        return replace(self.progress, poses=dict(self.progress.poses))

    # -- what the loop tells it, frame by frame ---------------------------------------------------
    def follows(self, track_id: int) -> bool:
        """This track is (or was, before it was lost) the enrolled face: describe it every frame."""
        return self.progress.track_id == track_id

    def gated(self, problems: list[str]) -> None:
        """The followed face failed the quality gates: tell the operator why it gives no samples."""
        self.progress.problems = problems

    def chip(self, track_id: int, frame: int, chip: Chip) -> None:
        """The followed face was sent to be described: a sample, if its descriptor is taken."""
        self._chips[(track_id, frame)] = chip

    def take_chip(self, track_id: int, frame: int) -> Chip | None:
        """The chip of a finished descriptor job, if it was one of the followed face."""
        return self._chips.pop((track_id, frame), None)

    def described(self, track_id: int, frame: int, descriptor: np.ndarray, match: Match, chip: Chip | None) -> str | None:
        """A track's descriptor: the lost face back, or a sample of the followed one. Nothing is
        taken from the followed track while it is lost: its box may hold someone else now."""
        if self.progress.lost and self._same_face(descriptor):
            self._rejoin(track_id)
        elif chip is not None and self.progress.track_id == track_id and not self.progress.lost:
            return self._take_sample(frame, descriptor, match, *chip)
        return None

    def lose(self, track_id: int, why: str, now: float) -> None:
        """The followed track ended or its box changed to another face: look for the face again
        (a turned head, a cut, a shot change) before giving up."""
        p = self.progress
        if p.track_id == track_id and not p.done and not p.lost:
            self.lost_at = now
            p.lost = True
            p.can_save = p.collected >= self.rules.enroll_min_keep
            log.info("enrolling %s: the face %s after %d of %d samples; looking for it again", p.name, why, p.collected, p.needed)

    def tick(self, now: float) -> str | None:
        """Time runs on the frames' clock. Out of time with enough samples, the operator is offered
        to save them (the collecting goes on meanwhile); with too few, nothing is saved."""
        p, s = self.progress, self.rules
        if self.finished:
            return None
        if self.started is None:
            self.started = now
        enough = p.collected >= s.enroll_min_keep
        if (
            self.lost_at is None
            and now - self.started >= s.enroll_pose_wait
            and self.poses.taken.get("straight")
            and p.collected >= p.needed
        ):
            return self._save()  # the straight pose and enough samples; the poses not shown by now stay missing
        if self.lost_at is not None and now - self.lost_at > s.enroll_wait:
            if enough:
                p.can_save = True
            else:
                self._fail(
                    f"the face left the camera after {p.collected} of {p.needed} "
                    f"samples and did not come back in {s.enroll_wait:g} s; nothing was saved"
                )
        elif self.lost_at is None and now - self.started > s.enroll_timeout:
            if enough:
                p.can_save = True
            else:
                why = f" ({', '.join(p.problems)})" if p.problems else ""
                self._fail(f"only {p.collected} of {p.needed} good samples in {s.enroll_timeout:.0f} s{why}; nothing was saved")
        return None

    # -- what the operator does -------------------------------------------------------------------
    def save(self) -> str | None:
        """Save the samples taken so far (at least enroll_min_keep), when the face left early."""
        if self.progress.collected < self.rules.enroll_min_keep:
            raise ValueError(f"only {self.progress.collected} samples; at least {self.rules.enroll_min_keep} are needed")
        return self._save()

    def cancel(self) -> None:
        if not self.progress.done:
            log.info("enrolling %s: cancelled after %d samples; nothing was saved", self.progress.name, self.progress.collected)

    # -- inside -----------------------------------------------------------------------------------
    def _same_face(self, descriptor: np.ndarray) -> bool:
        """The enrolled face back: near the samples taken (or the face as it was clicked)."""
        known = [x.descriptor for x in self.samples] or self.reference
        return bool(known) and min(float(np.linalg.norm(descriptor - k)) for k in known) <= self.rules.enroll_rejoin

    def _rejoin(self, track_id: int) -> None:
        self.progress.track_id = track_id
        self.progress.lost = False
        self.lost_at = None
        self._chips = {k: v for k, v in self._chips.items() if k[0] != track_id}  # samples from its next frames
        log.info("enrolling %s: the face is back (track %d)", self.progress.name, track_id)

    def _take_sample(
        self, frame: int, descriptor: np.ndarray, match: Match, thumb: bytes, quality: Quality, pose: HeadPose | None
    ) -> str | None:
        s, p = self.rules, self.progress
        if self.frames and frame - self.frames[-1] < s.enroll_min_gap:  # (it passed the quality gates to get here)
            return None
        self.poses.per_pose = s.enroll_per_pose
        pose_name = self.poses.name(pose)
        unwanted = self.poses.why_not(pose_name, p.collected, p.needed)
        nearest = min((float(np.linalg.norm(descriptor - x.descriptor)) for x in self.samples), default=np.inf)
        # a new look, but still this face (as near the samples as a face that comes back must be)
        new_look = pose_name is not None and s.threshold < nearest <= s.enroll_rejoin and len(self.samples) < s.enroll_max
        if unwanted and not new_look:
            p.problems = [unwanted]
            return None
        assert pose is not None and pose_name is not None  # a frame with no pose is never wanted
        if nearest < s.enroll_min_spread:
            return None
        if match.name is not None and match.name.casefold() != p.name.casefold():
            p.warning = f"this face already matches {match.name} ({match.distance:.2f}); check the name before saving"
        self.samples.append(NewSample(descriptor, thumb, f"camera frame {frame} ({pose_name})", quality.sharpness, "click"))
        self.frames.append(frame)
        self.poses.add(pose_name, pose)
        p.poses = dict(self.poses.taken)
        p.collected = len(self.samples)
        p.problems = []
        return self._save() if self.poses.every_pose else None

    def _save(self) -> str | None:
        p = self.progress
        try:
            person, _ = self.gallery.enroll_samples(p.name, self.samples, allowed=self.allowed)
        except Exception as exc:  # the database said no: say why, keep the video going
            self._fail(f"could not save {p.name}: {exc}")
            return None
        p.done = True
        p.can_save = False
        log.info("enrolling %s: saved %d samples (%s)", person.name, len(self.samples), self.poses.summary())
        return f"enrolled {person.name} with {len(self.samples)} samples ({self.poses.summary()})"

    def _fail(self, why: str) -> None:
        self.progress.error = why
        log.warning("enrolling %s: failed: %s", self.progress.name, why)
