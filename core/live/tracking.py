"""Follow faces from frame to frame, so a known face costs almost nothing per frame.

Detections are matched to tracks greedily by overlap (IoU), then by centre distance for fast
moves (core.vision.tracking.pair_boxes, shared with the video scan); a track that misses a few
frames keeps its box (coasting) before it is dropped. Each track carries what recognition
learnt about it, so the name survives between descriptors.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.records import Box, Detection, Match
from core.vision.tracking import pair_boxes


@dataclass
class Template:
    """A track's probe template: the mean of its descriptors so far, rescaled to their mean length.

    Why: one frame's descriptor carries that frame's noise (a word spoken, a blink, a slight turn),
    which adds to its distance from everyone; the mean of several good views of one face keeps the
    face and averages the noise out. Measured (bench/footage_bench.py): Lin-Manuel enrolled from
    his one photo sits at 0.41-0.59 frame by frame in the clip (two frames within 0.4) and his
    template under 0.4 after ~2 s; a stranger's template comes up to 0.04 nearer someone than
    their nearest frame (less noise for them too), every one still over 0.5. Only one face's
    frames go into it: the loop starts a new one when the box holds someone else
    (LiveSettings.same_face), or a face this far from it (LiveSettings.template_join)."""

    total: np.ndarray | None = None
    length: float = 0.0  # sum of the descriptors' lengths
    count: int = 0

    def add(self, descriptor: np.ndarray) -> None:
        d = np.asarray(descriptor, dtype=np.float64)
        self.total = d.copy() if self.total is None else self.total + d
        self.length += float(np.linalg.norm(d))
        self.count += 1

    def near(self, descriptor: np.ndarray, bound: float) -> bool:
        """``descriptor`` may join: within ``bound`` of the template, or the template is empty."""
        vector = self.vector
        return vector is None or float(np.linalg.norm(np.asarray(descriptor, np.float32) - vector)) <= bound

    @property
    def vector(self) -> np.ndarray | None:
        """The template (None before the first descriptor)."""
        if self.total is None:
            return None
        norm = float(np.linalg.norm(self.total))
        scale = self.length / self.count / norm if norm > 0 else 0.0
        return (self.total * scale).astype(np.float32)


@dataclass
class Track:
    id: int
    box: Box
    first_frame: int
    misses: int = 0
    matches: list[Match] = field(default_factory=list)  # the door's identifications (of the template), newest last
    evidence_frame: int | None = None  # frame of the newest of them: the door gets one every redescribe_every frames
    latest: Match | None = None  # the template's identification from the newest descriptor (the label's)
    glimpse: Match | None = None  # the newest descriptor identified alone (the label's first name)
    descriptor: np.ndarray | None = None  # the latest one
    template: Template = field(default_factory=Template)  # the mean of its descriptors: what is identified
    described_frame: int | None = None  # frame whose chip gave the latest descriptor
    submitted_frame: int | None = None  # frame of the chip now being described
    named_frame: int | None = None  # first frame at which it carried a name
    identity: str | None = None  # the name the track has earned, held between frames
    detection: Detection | None = None  # what the detector saw in the latest frame it was found
    problems: list[str] = field(default_factory=list)  # why its latest check failed the quality gates

    @property
    def pending(self) -> bool:
        return self.submitted_frame is not None


class Tracker:
    """Assigns detections to tracks; ``max_misses`` frames without a detection end a track."""

    def __init__(self, max_misses: int = 5, min_iou: float = 0.25) -> None:
        self.max_misses = max_misses
        self.min_iou = min_iou
        self.tracks: dict[int, Track] = {}
        self._next_id = 1

    def update(self, found: list[Detection], frame: int) -> tuple[list[Track], list[Track]]:
        """Match this frame's detections to tracks; returns (live tracks, tracks that just ended)."""
        boxes = [d.box for d in found]
        tids = list(self.tracks)
        pairs = pair_boxes([self.tracks[t].box for t in tids], boxes, self.min_iou)
        for i, j in pairs:
            track = self.tracks[tids[i]]
            track.box, track.detection, track.misses = boxes[j], found[j], 0
        used_tracks = {tids[i] for i, _ in pairs}
        used_boxes = {j for _, j in pairs}
        ended = []
        for tid in list(self.tracks):
            if tid not in used_tracks:
                track = self.tracks[tid]
                track.misses += 1
                if track.misses > self.max_misses:
                    ended.append(self.tracks.pop(tid))
        for j, box in enumerate(boxes):
            if j not in used_boxes:
                self.tracks[self._next_id] = Track(self._next_id, box, frame, detection=found[j])
                self._next_id += 1
        return list(self.tracks.values()), ended

    def at(self, x: float, y: float) -> Track | None:
        """The track whose box holds the point (the smallest, when boxes overlap)."""
        hits = [t for t in self.tracks.values() if t.box.contains(x, y)]
        return min(hits, key=lambda t: t.box.area) if hits else None
