"""The live recognition loop, Qt-free: frames in, named and tracked faces out.

Per frame: the detector finds every face (YuNet by default, about 5 ms a frame, with a score
and five landmarks per face; with ``haar+hog`` Haar proposals and each live track's last position
are confirmed by HOG on small crops instead); the tracker carries names between frames; faces
that pass the quality gates (core.vision.quality: big, sharp, frontal, clearly a face) send a
chip to a descriptor worker (a process by default) when new or due again, and finished
descriptors are matched against the gallery. A face that fails the gates is boxed and labelled
with why, and is never described, matched or shown to the decider as an identification. Nothing
here blocks on a descriptor, so the caller's frame rate is set by detection alone. An optional
decider (door logic) is asked about every track on every frame.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np

from core.gallery.api import Gallery
from core.gallery.match import DEFAULT_MARGIN, DEFAULT_THRESHOLD
from core.gallery.store import NewSample
from core.live.enrollment import PoseBook
from core.live.tracking import Track, Tracker
from core.live.worker import DescriptorWorker, ProcessWorker
from core.records import Box, Detection, Match, Quality
from core.vision.detection import DEFAULT_METHOD, Detector
from core.vision.images import crop, encode_jpeg
from core.vision.pose import POSES, HeadPose, head_pose
from core.vision.quality import QualitySettings, measure, precheck, problems
from core.vision.tracking import CutDetector

log = logging.getLogger("facegate.enroll")  # each enrollment's outcome goes to the log file (core.logs)


class TrackDecider(Protocol):
    """What the loop asks about each track on every frame (core.door.decide.DoorDecider is one);
    its answer rides along in TrackView.decision for the window to show."""

    def update(
        self,
        track_id: int,
        matches: list[Match],
        rgb: np.ndarray,
        box: Box,
        timestamp: float,
        descriptor: np.ndarray | None = None,
    ) -> Any: ...

    def track_lost(self, track_id: int) -> None: ...


@dataclass
class LiveSettings:
    """How the live loop looks and decides; every number is the user's to change."""

    method: str = DEFAULT_METHOD
    min_face: int = 40
    quality: QualitySettings = field(default_factory=QualitySettings)  # gates before a descriptor (and a sample)
    threshold: float = DEFAULT_THRESHOLD
    min_margin: float = DEFAULT_MARGIN
    redescribe_every: int = 3  # frames between descriptors of a track already identified
    vote: int = 3  # the label is the majority of the last `vote` identifications...
    quick_slack: float = 0.05  # ...or the latest one alone, when it is this far inside the threshold
    # and no other person is among them (a face turning in)
    hold_slack: float = 0.1  # a named track keeps its name while its nearest person is still
    # that person within threshold + slack (pose/light drift)
    same_face: float = 0.6  # a track's new descriptor farther than this from its previous
    # one is another person (a cut, a swap): the track starts afresh
    max_misses: int = 12  # frames (0.4 s) a track survives without a detection (pose, blur)
    scene_cut: float = 20.0  # the whole picture changed this much (0-255): every track ends (core.vision.tracking.CutDetector)
    enroll_samples: int = 5  # samples wanted; up to enroll_per_pose of each head pose are taken (core.live.enrollment)
    enroll_per_pose: int = 2
    enroll_pose_wait: float = 2.0  # s: then the straight pose and enroll_samples samples complete it
    enroll_timeout: float = 10.0  # seconds to collect them
    enroll_min_gap: int = 6  # frames between two samples (different moments, not one pose)
    enroll_min_spread: float = 0.05  # a sample must differ this much from those taken (new pose/light)
    enroll_max: int = 12  # samples in all; past the poses' own, a frame is taken when the samples
    # taken would not name it (over the threshold from every one: light,
    # another camera, a turn between poses) yet it is within enroll_rejoin
    # of one (still this face), so they cover how the camera sees them
    enroll_rejoin: float = 0.5  # a face this near the samples taken is the enrolled face back (its track broke)
    enroll_wait: float = 5.0  # s to look for it after it left, before giving up (or offering to save)
    enroll_min_keep: int = 3  # samples enough to offer saving when the face leaves early


@dataclass
class TrackView:
    """What to draw for one face: where, what to call it, and how sure."""

    id: int
    box: Box
    label: str
    name: str | None
    distance: float | None
    margin: float | None
    state: str  # pending | known | unknown | unsure | poor (failed the quality gates: label says why)
    first_frame: int
    named_frame: int | None
    decision: Any = None


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


@dataclass
class FrameResult:
    index: int
    timestamp: float
    tracks: list[TrackView]
    detect_ms: float
    enrollment: EnrollmentProgress | None = None
    events: list[str] = field(default_factory=list)


@dataclass
class _Enrollment:
    progress: EnrollmentProgress
    allowed: bool
    started: float | None = None  # frame timestamps (the next frame's when it starts)
    lost_at: float | None = None
    reference: list[np.ndarray] = field(default_factory=list)  # the face's descriptor when it was clicked
    samples: list[NewSample] = field(default_factory=list)
    frames: list[int] = field(default_factory=list)
    poses: PoseBook = field(default_factory=PoseBook)


class LiveRecognizer:
    """Feed it frames with process(); call its other methods from any thread."""

    def __init__(
        self,
        gallery: Gallery,
        settings: LiveSettings | None = None,
        descriptor_worker: DescriptorWorker | None = None,
        decider: TrackDecider | None = None,
    ) -> None:
        self.gallery = gallery
        self.settings = settings or LiveSettings()
        self.descriptor_worker = descriptor_worker or ProcessWorker(gallery.describer.model_dir)
        self.decider = decider
        self.detector = Detector(self.settings.method, self.settings.min_face)
        # Models load here, on the building thread at start-up: loading them on the frame
        # thread mid-stream held the GIL (HOG 250 ms) and froze the window.
        self.detector.warm_up()
        gallery.describer.preload("shape5")
        self.tracker = Tracker(self.settings.max_misses)
        self.cuts = CutDetector(self.settings.scene_cut)
        self._lock = threading.RLock()
        self._frame = -1
        self._thumbs: dict[tuple[int, int], tuple[bytes, Quality, HeadPose | None]] = {}
        # faces that just left (track id -> last descriptor, when): the operator clicked one, typed
        # its name, and pressed Start after a cut or a turned head had ended its track
        self._left: dict[int, tuple[np.ndarray, float]] = {}
        self._enrollment: _Enrollment | None = None
        self._now = 0.0  # the frame timestamp being processed
        self._events: list[str] = []
        self._worker_restarts = 0
        self._worker_error: str | None = None
        self.last_frame_at: float | None = None  # time.monotonic() when process() last finished a frame

    # -- the frame loop ---------------------------------------------------------------------------
    def process(self, rgb: np.ndarray, timestamp: float | None = None) -> FrameResult:
        """Detect, track, describe (asynchronously), match and decide for one RGB frame."""
        timestamp = time.monotonic() if timestamp is None else timestamp
        with self._lock:
            self._frame += 1
            frame = self._frame
            self._now = timestamp
            if self.cuts(rgb):  # a new picture: no face in it is one of the old tracks
                self._end_tracks()
            started = time.perf_counter()
            found = self._detect(rgb)
            detect_ms = (time.perf_counter() - started) * 1000
            tracks, ended = self.tracker.update(found, frame)
            for track in ended:
                self._track_ended(track)
            for track in tracks:
                if track.misses == 0 and self._wants_descriptor(track, frame):
                    self._submit(rgb, track, frame)
            self._collect(frame)
            self._watch_worker()
            self._check_enrollment_deadline(timestamp)
            views = [self._view(t, rgb, timestamp) for t in tracks if t.misses <= 2]
            events, self._events = self._events, []
            enrollment = (
                replace(self._enrollment.progress, poses=dict(self._enrollment.progress.poses)) if self._enrollment else None
            )
            if self._enrollment and (self._enrollment.progress.done or self._enrollment.progress.error):
                self._enrollment = None
            self.last_frame_at = time.monotonic()
            return FrameResult(frame, timestamp, views, detect_ms, enrollment, events)

    def _detect(self, rgb: np.ndarray) -> list[Detection]:
        if self.settings.method != "haar+hog":
            return self.detector.find(rgb)
        # haar+hog costs 30-40 ms a frame and Haar misses small faces: confirm where faces were
        # with HOG on small crops, then look at what Haar proposes anew
        found: list[Box] = []
        for track in self.tracker.tracks.values():  # where faces were: confirm them first
            box = self.detector.verify(rgb, track.box)
            if box is not None and all(box.iou(b) < 0.3 for b in found):
                found.append(box)
        for proposal in self.detector.haar(rgb):  # then anything new Haar sees
            if any(proposal.iou(b) > 0.2 or b.contains(*proposal.center) for b in found):
                continue
            box = self.detector.verify(rgb, proposal)
            if box is not None and all(box.iou(b) < 0.3 for b in found):
                found.append(box)
        return [Detection(b) for b in sorted(found, key=lambda b: b.left)]

    def _wants_descriptor(self, track: Track, frame: int) -> bool:
        if track.pending:
            return False
        if self._enrollment and self._enrollment.progress.track_id == track.id:
            return True
        if track.described_frame is None or track.problems:  # new, or failed the gates last time: look again
            return True
        return frame - track.described_frame >= self.settings.redescribe_every

    def _submit(self, rgb: np.ndarray, track: Track, frame: int) -> None:
        box = track.box.clipped(rgb.shape)
        if box.width < 8 or box.height < 8:
            return
        enrolling = self._enrollment if self._enrollment and self._enrollment.progress.track_id == track.id else None
        track.problems = precheck(track.detection, self.settings.quality) if track.detection else []
        if not track.problems:
            chip, points = self.gallery.describer.chip(rgb, box)
            quality = measure(chip, box, track.detection, points)
            track.problems = problems(quality, self.settings.quality)
        if track.problems:  # boxed and told why, never described (nor sampled)
            if enrolling:
                enrolling.progress.problems = track.problems
            return
        if self.descriptor_worker.submit((track.id, frame), chip):
            track.submitted_frame = frame
            if enrolling:
                shape = self.gallery.describer.landmarks(rgb, box, 68)  # ~1 ms, the enrolling face only
                pose = head_pose(np.array([(q.x, q.y) for q in shape.parts()], float), rgb.shape[1])
                self._thumbs[(track.id, frame)] = (encode_jpeg(crop(rgb, box), 85), quality, pose)

    def _collect(self, frame: int) -> None:
        for (track_id, submitted), descriptor, error in self.descriptor_worker.poll():
            track = self.tracker.tracks.get(track_id)
            thumb = self._thumbs.pop((track_id, submitted), None)
            if track is None:
                continue
            track.submitted_frame = None
            if descriptor is None:
                self._events.append(f"descriptor failed: {error}")
                continue
            if track.descriptor is not None and float(np.linalg.norm(descriptor - track.descriptor)) > self.settings.same_face:
                # the box now holds someone else: forget what this track had learnt
                track.matches, track.identity, track.named_frame = [], None, None
                if self.decider is not None:
                    self.decider.track_lost(track.id)
                self._lose_enrollment(track.id, "in the box changed to another")
            track.descriptor = descriptor
            track.described_frame = submitted
            match = self.gallery.identify_descriptor(descriptor, self.settings.threshold, self.settings.min_margin)
            track.matches.append(match)
            del track.matches[:-50]
            if match.matched and track.named_frame is None:
                track.named_frame = frame
            enrolling = self._enrollment
            if enrolling and enrolling.progress.lost and self._same_face(enrolling, descriptor):
                self._rejoin(enrolling, track_id)
            elif (
                thumb is not None and enrolling and enrolling.progress.track_id == track_id and not enrolling.progress.lost
            ):  # lost: the box may hold someone else now
                self._take_sample(enrolling, submitted, descriptor, match, *thumb)

    def _watch_worker(self) -> None:
        """Say once when the descriptor worker restarted or gave up."""
        worker = self.descriptor_worker
        if worker.restarts > self._worker_restarts:
            self._worker_restarts = worker.restarts
            self._events.append("the descriptor worker stopped and was restarted")
        if worker.error and worker.error != self._worker_error:
            self._worker_error = worker.error
            self._events.append(worker.error)

    def _view(self, track: Track, rgb: np.ndarray, timestamp: float) -> TrackView:
        if track.problems:
            # Not judgeable now, so not judged: no name held over from earlier frames (the box may
            # hold someone else since: a cut the tracker took for movement, and no descriptor comes
            # to notice), and nothing for the door (no consensus, no liveness from this face).
            return TrackView(
                track.id, track.box, track.problems[0], None, None, None, "poor", track.first_frame, track.named_frame
            )
        name, state = self._label(track)
        last = track.matches[-1] if track.matches else None
        decision = None
        if self.decider is not None:
            decision = self.decider.update(track.id, list(track.matches), rgb, track.box, timestamp, descriptor=track.descriptor)
        if name and track.named_frame is None:
            track.named_frame = self._frame
        label = name if name else {"pending": "…", "unsure": "Unsure"}.get(state, "Unknown")
        return TrackView(
            track.id,
            track.box,
            label,
            name,
            last.distance if last else None,
            last.margin if last else None,
            state,
            track.first_frame,
            track.named_frame,
            decision,
        )

    def _label(self, track: Track) -> tuple[str | None, str]:
        """What to call a track: a majority vote over its latest identifications (one noisy frame
        cannot flip a name), and a name once earned is held while the face drifts a little past
        the threshold. Door decisions do not use this: they see the raw matches."""
        if not track.matches:
            return None, "pending"
        recent = track.matches[-self.settings.vote :]
        name, count = Counter(m.name for m in recent).most_common(1)[0]
        if name is not None and (count * 2 > len(recent) or len(recent) == 1):
            track.identity = name
            return name, "known"
        last = recent[-1]
        if (
            last.name is not None
            and {m.name for m in recent if m.name is not None} == {last.name}
            and last.distance is not None
            and last.distance <= self.settings.threshold - self.settings.quick_slack
        ):
            # a face turning in: its first frames match nobody, then a clear match - name it now;
            # "nobody" does not outvote a clear name, only another name would (the door never uses this)
            track.identity = last.name
            return track.identity, "known"
        nearest = last.candidates[0] if last.candidates else None
        if (
            track.identity
            and nearest
            and nearest.name == track.identity
            and nearest.distance <= self.settings.threshold + self.settings.hold_slack
        ):
            return track.identity, "known"
        track.identity = None
        unsure = last.distance is not None and last.distance <= self.settings.threshold
        return None, "unsure" if unsure else "unknown"

    def _track_ended(self, track: Track) -> None:
        if self.decider is not None:
            self.decider.track_lost(track.id)
        self._lose_enrollment(track.id, "left")
        self._left = {k: v for k, v in self._left.items() if self._now - v[1] <= self.settings.enroll_wait}
        if track.descriptor is not None:
            self._left[track.id] = (track.descriptor, self._now)

    def _lose_enrollment(self, track_id: int, why: str) -> None:
        e = self._enrollment
        if e and e.progress.track_id == track_id and not e.progress.done and not e.progress.lost:
            # a turned head, a cut, a shot change, another face in the box: look for the same face
            # again before giving up
            e.lost_at = self._now
            e.progress.lost = True
            e.progress.can_save = e.progress.collected >= self.settings.enroll_min_keep
            log.info(
                "enrolling %s: the face %s after %d of %d samples; looking for it again",
                e.progress.name,
                why,
                e.progress.collected,
                e.progress.needed,
            )

    def _same_face(self, e: _Enrollment, descriptor: np.ndarray) -> bool:
        """The enrolled face back: near the samples taken (or the face as it was clicked)."""
        known = [x.descriptor for x in e.samples] or e.reference
        return bool(known) and min(float(np.linalg.norm(descriptor - k)) for k in known) <= self.settings.enroll_rejoin

    def _rejoin(self, e: _Enrollment, track_id: int) -> None:
        e.progress.track_id = track_id
        e.progress.lost = False
        e.lost_at = None
        self._thumbs = {k: v for k, v in self._thumbs.items() if k[0] != track_id}  # samples from its next frames
        log.info("enrolling %s: the face is back (track %d)", e.progress.name, track_id)

    # -- enrollment -------------------------------------------------------------------------------
    def start_enrollment(self, track_id: int, name: str, allowed: bool = True) -> None:
        """Collect good samples of this tracked face over the next frames, then save them together.
        A face whose track ended in the last ``enroll_wait`` seconds (a cut, a head turned away while
        the operator typed the name) is looked for, as when an enrollment's face leaves."""
        with self._lock:
            progress = EnrollmentProgress(name.strip(), track_id, 0, self.settings.enroll_samples)
            if track_id in self.tracker.tracks:
                clicked = self.tracker.tracks[track_id].descriptor
                self._enrollment = _Enrollment(progress, allowed, reference=[] if clicked is None else [clicked])
                log.info("enrolling %s: started on track %d", progress.name, track_id)
                return
            left = self._left.get(track_id)
            if left is None or self._now - left[1] > self.settings.enroll_wait:
                raise KeyError(f"no face {track_id} on screen")
            # it has just left: look for it as for an enrolled face whose track broke
            progress.lost = True
            self._enrollment = _Enrollment(progress, allowed, lost_at=self._now, reference=[left[0]])
            log.info("enrolling %s: started on track %d, which has just left; looking for it again", progress.name, track_id)

    def cancel_enrollment(self) -> None:
        with self._lock:
            if self._enrollment is not None and not self._enrollment.progress.done:
                log.info(
                    "enrolling %s: cancelled after %d samples; nothing was saved",
                    self._enrollment.progress.name,
                    self._enrollment.progress.collected,
                )
            self._enrollment = None

    def save_enrollment(self) -> EnrollmentProgress | None:
        """Save the samples taken so far (at least enroll_min_keep), when the face left early."""
        with self._lock:
            e = self._enrollment
            if e is None or e.progress.done or e.progress.error:
                return None
            if e.progress.collected < self.settings.enroll_min_keep:
                raise ValueError(f"only {e.progress.collected} samples; at least {self.settings.enroll_min_keep} are needed")
            self._save(e)
            return replace(e.progress)

    def _take_sample(
        self,
        e: _Enrollment,
        frame: int,
        descriptor: np.ndarray,
        match: Match,
        thumb: bytes,
        quality: Quality,
        pose: HeadPose | None,
    ) -> None:
        s = self.settings
        if e.frames and frame - e.frames[-1] < s.enroll_min_gap:  # (it passed the quality gates to get here)
            return
        e.poses.per_pose = s.enroll_per_pose
        pose_name = e.poses.name(pose)
        unwanted = e.poses.why_not(pose_name, e.progress.collected, e.progress.needed)
        nearest = min((float(np.linalg.norm(descriptor - x.descriptor)) for x in e.samples), default=np.inf)
        # a new look, but still this face (as near the samples as a face that comes back must be)
        new_look = pose_name is not None and s.threshold < nearest <= s.enroll_rejoin and len(e.samples) < s.enroll_max
        if unwanted and not new_look:
            e.progress.problems = [unwanted]
            return
        assert pose is not None and pose_name is not None  # a frame with no pose is never wanted
        if nearest < s.enroll_min_spread:
            return
        if match.name is not None and match.name.casefold() != e.progress.name.casefold():
            e.progress.warning = f"this face already matches {match.name} ({match.distance:.2f}); check the name before saving"
        e.samples.append(NewSample(descriptor, thumb, f"camera frame {frame} ({pose_name})", quality.sharpness, "click"))
        e.frames.append(frame)
        e.poses.add(pose_name, pose)
        e.progress.poses = dict(e.poses.taken)
        e.progress.collected = len(e.samples)
        e.progress.problems = []
        if e.poses.every_pose:
            self._save(e)

    def _save(self, e: _Enrollment) -> None:
        try:
            person, _ = self.gallery.enroll_samples(e.progress.name, e.samples, allowed=e.allowed)
        except Exception as exc:  # the database said no: say why, keep the video going
            self._fail(e, f"could not save {e.progress.name}: {exc}")
            return
        e.progress.done = True
        e.progress.can_save = False
        self._events.append(f"enrolled {person.name} with {len(e.samples)} samples ({e.poses.summary()})")
        log.info("enrolling %s: saved %d samples (%s)", person.name, len(e.samples), e.poses.summary())
        self._reidentify()

    def _fail(self, e: _Enrollment, why: str) -> None:
        e.progress.error = why
        log.warning("enrolling %s: failed: %s", e.progress.name, why)

    def _check_enrollment_deadline(self, now: float) -> None:
        """Time runs on the frames' clock. Out of time with enough samples, the operator is offered
        to save them (the collecting goes on meanwhile); with too few, nothing is saved."""
        e = self._enrollment
        if not e or e.progress.done or e.progress.error:
            return
        s = self.settings
        if e.started is None:
            e.started = now
        enough = e.progress.collected >= s.enroll_min_keep
        if (
            e.lost_at is None
            and now - e.started >= s.enroll_pose_wait
            and e.poses.taken.get("straight")
            and e.progress.collected >= e.progress.needed
        ):
            self._save(e)  # the straight pose and enough samples; the poses not shown by now stay missing
        elif e.lost_at is not None and now - e.lost_at > s.enroll_wait:
            if enough:
                e.progress.can_save = True
            else:
                self._fail(
                    e,
                    f"the face left the camera after {e.progress.collected} of {e.progress.needed} "
                    f"samples and did not come back in {s.enroll_wait:g} s; nothing was saved",
                )
        elif e.lost_at is None and now - e.started > s.enroll_timeout:
            if enough:
                e.progress.can_save = True
            else:
                why = f" ({', '.join(e.progress.problems)})" if e.progress.problems else ""
                self._fail(
                    e,
                    f"only {e.progress.collected} of {e.progress.needed} good samples in "
                    f"{s.enroll_timeout:.0f} s{why}; nothing was saved",
                )

    # -- changes from elsewhere -------------------------------------------------------------------
    def reset(self) -> None:
        """A new source or scene: drop every track (and an enrollment in progress)."""
        with self._lock:
            self._end_tracks()
            self.cancel_enrollment()
            self._left.clear()  # another source: its faces are not these

    def _end_tracks(self) -> None:
        for track in self.tracker.tracks.values():
            self._track_ended(track)
        self.tracker.tracks.clear()
        self._thumbs.clear()

    @property
    def frames(self) -> int:
        """Frames processed since start (the health monitor's frame rate and READY come from it)."""
        return self._frame + 1

    def track_at(self, x: float, y: float) -> int | None:
        with self._lock:
            track = self.tracker.at(x, y)
            return track.id if track else None

    def refresh(self) -> None:
        """The gallery changed (rename, delete, samples): re-identify every track at once."""
        with self._lock:
            self.gallery.sync_index()
            self._reidentify()

    def _reidentify(self) -> None:
        for track in self.tracker.tracks.values():
            if track.descriptor is not None:
                match = self.gallery.identify_descriptor(track.descriptor, self.settings.threshold, self.settings.min_margin)
                track.matches = [match]
                track.identity = None
                track.named_frame = self._frame if match.matched else None

    def update_settings(self, **changes: Any) -> None:
        with self._lock:
            self.settings = replace(self.settings, **changes)
            if {"method", "min_face"} & set(changes):
                self.detector = Detector(self.settings.method, self.settings.min_face)
                self.detector.warm_up()
            if {"threshold", "min_margin"} & set(changes):
                self._reidentify()

    def close(self) -> None:
        with self._lock:
            self.descriptor_worker.close()
