"""The live recognition loop, Qt-free: frames in, named and tracked faces out.

Per frame: the detector finds every face (YuNet by default, about 5 ms a frame, with a score
and five landmarks per face; with ``haar+hog`` Haar proposals and each live track's last position
are confirmed by HOG on small crops instead); the tracker carries names between frames; faces
that pass the quality gates (core.vision.quality: big, sharp, frontal, clearly a face) send a
chip to a descriptor worker (a process by default) when new or due again, and finished
descriptors join their track's template (the mean of its descriptors so far: one face's good
views, less noisy than any one of them), which is matched against the gallery. A face that fails the gates is boxed and labelled
with why, and is never described, matched or shown to the decider as an identification. Nothing
here blocks on a descriptor, so the caller's frame rate is set by detection alone. An optional
decider (door logic) is asked about every track on every frame.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np

from core.gallery.api import Gallery
from core.gallery.match import DEFAULT_MARGIN, DEFAULT_THRESHOLD
from core.live.enrollment import Enrollment, EnrollmentProgress
from core.live.tracking import Template, Track, Tracker
from core.live.worker import DescriptorWorker, ProcessWorker
from core.records import Box, Detection, Match
from core.vision.detection import DEFAULT_METHOD, Detector
from core.vision.images import crop, encode_jpeg
from core.vision.pose import head_pose
from core.vision.quality import QualitySettings, measure, precheck, problems
from core.vision.tracking import CutDetector


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

    def frame(self, rgb: np.ndarray, faces: list[Box], timestamp: float) -> None: ...

    def track_lost(self, track_id: int) -> None: ...


@dataclass
class LiveSettings:
    """How the live loop looks and decides; every number is the user's to change."""

    method: str = DEFAULT_METHOD
    min_face: int = 40
    quality: QualitySettings = field(default_factory=QualitySettings)  # gates before a descriptor (and a sample)
    threshold: float = DEFAULT_THRESHOLD
    min_margin: float = DEFAULT_MARGIN
    redescribe_every: int = 3  # frames between descriptors of a track already named, and between
    # the identifications the door is shown (its k agreeing ones span as many frames as ever)
    eager_frames: int = 30  # a track not yet named is described on every frame for this long (1 s)
    # when the worker is idle: a face turning in is named on its first good frame, not up to
    # redescribe_every - 1 frames later
    vote: int = 3  # the label is the majority of the last `vote` identifications...
    quick_slack: float = 0.05  # ...or the latest one alone, when it is this far inside the threshold
    # and no other person is among them (a face turning in)
    hold_slack: float = 0.1  # a named track keeps its name while its nearest person is still
    # that person within threshold + slack (pose/light drift)
    same_face: float = 0.6  # a track's new descriptor farther than this from its previous
    # one, or from its template, is another person (a cut, a swap): the track starts afresh
    track_template: bool = True  # identify the mean of the track's descriptors so far (its
    # template, core.live.tracking.Template), not each frame alone: less noise, same threshold
    template_join: float = 0.5  # a descriptor farther than this from the template starts a new
    # one (the track and its matches go on): a look-alike stepping into a box must not ride the
    # evidence of the face before. 1 % of genuine frames in the shared footage are this far
    # (99th percentile 0.50, bench/footage_bench.py); their template restarts, a short delay only
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
class FrameResult:
    index: int
    timestamp: float
    tracks: list[TrackView]
    detect_ms: float
    enrollment: EnrollmentProgress | None = None
    events: list[str] = field(default_factory=list)


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
        # faces that just left (track id -> last descriptor, when): the operator clicked one, typed
        # its name, and pressed Start after a cut or a turned head had ended its track
        self._left: dict[int, tuple[np.ndarray, float]] = {}
        self._enrollment: Enrollment | None = None
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
            if self.decider is not None:  # every face it may hold, found now or still tracked
                self.decider.frame(rgb, [d.box for d in found] + [t.box for t in tracks], timestamp)
            for track in tracks:
                if track.misses == 0 and self._wants_descriptor(track, frame):
                    self._submit(rgb, track, frame)
            self._collect(frame)
            self._watch_worker()
            if self._enrollment:
                self._saved(self._enrollment.tick(timestamp))
            views = [self._view(t, rgb, timestamp) for t in tracks if t.misses <= 2]
            events, self._events = self._events, []
            enrollment = self._enrollment.snapshot() if self._enrollment else None
            if self._enrollment and self._enrollment.finished:
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
        if self._enrollment and self._enrollment.follows(track.id):
            return True
        if track.described_frame is None or track.problems:  # new, or failed the gates last time: look again
            return True
        if (
            track.identity is None
            and frame - track.first_frame < self.settings.eager_frames
            and not self.descriptor_worker.in_flight
        ):
            # not named yet: every frame the worker is idle (an extra chip never queues ahead of
            # another face's, nor of a face new after a cut, on a busy machine)
            return True
        return frame - track.described_frame >= self.settings.redescribe_every

    def _submit(self, rgb: np.ndarray, track: Track, frame: int) -> None:
        box = track.box.clipped(rgb.shape)
        if box.width < 8 or box.height < 8:
            return
        enrolling = self._enrollment if self._enrollment and self._enrollment.follows(track.id) else None
        track.problems = precheck(track.detection, self.settings.quality) if track.detection else []
        if not track.problems:
            chip, points = self.gallery.describer.chip(rgb, box)
            quality = measure(chip, box, track.detection, points)
            track.problems = problems(quality, self.settings.quality)
        if track.problems:  # boxed and told why, never described (nor sampled)
            if enrolling:
                enrolling.gated(track.problems)
            return
        if self.descriptor_worker.submit((track.id, frame), chip):
            track.submitted_frame = frame
            if enrolling:
                shape = self.gallery.describer.landmarks(rgb, box, 68)  # ~1 ms, the enrolling face only
                pose = head_pose(np.array([(q.x, q.y) for q in shape.parts()], float), rgb.shape[1])
                enrolling.chip(track.id, frame, (encode_jpeg(crop(rgb, box), 85), quality, pose))

    def _collect(self, frame: int) -> None:
        for (track_id, submitted), descriptor, error in self.descriptor_worker.poll():
            track = self.tracker.tracks.get(track_id)
            chip = self._enrollment.take_chip(track_id, submitted) if self._enrollment else None
            if track is None:
                continue
            track.submitted_frame = None
            if descriptor is None:
                self._events.append(f"descriptor failed: {error}")
                continue
            if self._another_face(track, descriptor):
                # the box now holds someone else: forget what this track had learnt
                track.matches, track.identity, track.named_frame = [], None, None
                track.evidence_frame, track.latest, track.glimpse = None, None, None
                track.template = Template()
                if self.decider is not None:
                    self.decider.track_lost(track.id)
                if self._enrollment:  # never sample another face in the enrolled box
                    self._enrollment.lose(track.id, "in the box changed to another", self._now)
            elif not track.template.near(descriptor, self.settings.template_join):
                track.template = Template()
            track.descriptor = descriptor
            track.described_frame = submitted
            track.glimpse = self._identify_alone(descriptor)  # the label's first good frame
            due = track.evidence_frame is None or submitted - track.evidence_frame >= self.settings.redescribe_every
            if due or track.template.count == 0:
                # the template and the door's evidence take a descriptor every redescribe_every
                # frames, as they always did; the frames between serve the label alone
                track.template.add(descriptor)
                match = track.latest = self._identify(track)
                track.matches.append(match)
                track.evidence_frame = submitted
                del track.matches[:-50]
                if match.matched and track.named_frame is None:
                    track.named_frame = frame
            if self._enrollment and track.latest is not None:
                self._saved(self._enrollment.described(track_id, submitted, descriptor, track.latest, chip))

    def _another_face(self, track: Track, descriptor: np.ndarray) -> bool:
        """The new descriptor is someone else's: too far from the track's previous one (a cut, a
        swap) or from its template (a slow drift must not carry one face's frames into another's)."""
        far = self.settings.same_face
        known = [v for v in (track.descriptor, track.template.vector) if v is not None]
        return any(float(np.linalg.norm(descriptor - v)) > far for v in known)

    def _identify(self, track: Track) -> Match:
        """Who the track is: its template identified (LiveSettings.track_template), else its
        latest frame's descriptor; the same threshold and margin rule either way."""
        probe = track.template.vector if self.settings.track_template else track.descriptor
        assert probe is not None  # called once the track has a descriptor
        return self._identify_alone(probe)

    def _identify_alone(self, probe: np.ndarray) -> Match:
        return self.gallery.identify_descriptor(probe, self.settings.threshold, self.settings.min_margin)

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
        last = track.latest
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
        cannot flip a name), or its first good frame (below); a name once earned is held while the
        face drifts a little past the threshold. Door decisions do not use this: they see the
        spaced identifications of the template (track.matches) and need k of them to agree."""
        if not track.matches or track.latest is None:
            return None, "pending"
        recent = [*track.matches[-self.settings.vote :]]
        if recent[-1] is not track.latest:
            recent = [*recent[1:], track.latest]  # the newest descriptor's, between the door's
        name, count = Counter(m.name for m in recent).most_common(1)[0]
        if name is not None and (count * 2 > len(recent) or len(recent) == 1):
            track.identity = name
            return name, "known"
        last = recent[-1]
        others = {m.name for m in recent if m.name is not None} - {last.name}
        if (
            last.name is not None
            and not others
            and last.distance is not None
            and last.distance <= self.settings.threshold - self.settings.quick_slack
        ):
            # a face turning in: its first frames match nobody, then a clear match - name it now;
            # "nobody" does not outvote a clear name, only another name would (the door never uses this)
            track.identity = last.name
            return track.identity, "known"
        if self._first_good_frame(track, recent):
            track.identity = track.glimpse.name if track.glimpse else None
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

    def _first_good_frame(self, track: Track, recent: list[Match]) -> bool:
        """The newest frame alone names someone (the same threshold and margin) and the track's
        template, though still carrying the face's first unlike frames, has that person nearest
        within the hold bound (threshold + hold_slack: the evidence so far agrees), with nobody
        else named among its recent identifications. Why: a face turning in sits beyond the
        threshold for its first frames and its template carries them for a while (Lin-Manuel from
        4 frames: frames 82-87 at 0.47-0.52, frame 88 at 0.37, the template 0.43 there); a new
        track is named on its first identification alone anyway. A stranger needs a frame within
        the threshold of someone whose template is near them too: no stranger frame of the shared
        footage comes within 0.5 of anyone (bench/footage_bench.py)."""
        glimpse, latest = track.glimpse, track.latest
        if glimpse is None or latest is None or not glimpse.matched or not latest.candidates:
            return False
        nearest = latest.candidates[0]
        others = {m.name for m in recent if m.name is not None} - {glimpse.name}
        return (
            nearest.name == glimpse.name and nearest.distance <= self.settings.threshold + self.settings.hold_slack and not others
        )

    def _track_ended(self, track: Track) -> None:
        if self.decider is not None:
            self.decider.track_lost(track.id)
        if self._enrollment:
            self._enrollment.lose(track.id, "left", self._now)
        self._left = {k: v for k, v in self._left.items() if self._now - v[1] <= self.settings.enroll_wait}
        if track.descriptor is not None:
            self._left[track.id] = (track.descriptor, self._now)

    # -- enrollment (core.live.enrollment) -------------------------------------------------------
    def start_enrollment(self, track_id: int, name: str, allowed: bool = True) -> None:
        """Collect good samples of this tracked face over the next frames, then save them together.
        A face whose track ended in the last ``enroll_wait`` seconds (a cut, a head turned away while
        the operator typed the name) is looked for, as when an enrollment's face leaves."""
        with self._lock:
            if track_id in self.tracker.tracks:
                clicked = self.tracker.tracks[track_id].descriptor
                self._enrollment = Enrollment(self.gallery, self.settings, name, track_id, allowed, clicked)
                return
            left = self._left.get(track_id)
            if left is None or self._now - left[1] > self.settings.enroll_wait:
                raise KeyError(f"no face {track_id} on screen")
            # it has just left: look for it as for an enrolled face whose track broke
            self._enrollment = Enrollment(self.gallery, self.settings, name, track_id, allowed, left[0], lost_at=self._now)

    def cancel_enrollment(self) -> None:
        with self._lock:
            if self._enrollment is not None:
                self._enrollment.cancel()
            self._enrollment = None

    def save_enrollment(self) -> EnrollmentProgress | None:
        """Save the samples taken so far (at least enroll_min_keep), when the face left early."""
        with self._lock:
            e = self._enrollment
            if e is None or e.finished:
                return None
            self._saved(e.save())
            return replace(e.progress)

    def _saved(self, event: str | None) -> None:
        """An enrollment saved its person (``event`` says so): the tracks may be them now."""
        if event:
            self._events.append(event)
            self._reidentify()

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
                match = self._identify(track)
                track.matches, track.latest, track.evidence_frame = [match], match, track.described_frame
                track.glimpse = self._identify_alone(track.descriptor)
                track.identity = None
                track.named_frame = self._frame if match.matched else None

    def update_settings(self, **changes: Any) -> None:
        with self._lock:
            self.settings = replace(self.settings, **changes)
            if self._enrollment:
                self._enrollment.rules = self.settings
            if {"method", "min_face"} & set(changes):
                self.detector = Detector(self.settings.method, self.settings.min_face)
                self.detector.warm_up()
            if {"threshold", "min_margin"} & set(changes):
                self._reidentify()

    def close(self) -> None:
        with self._lock:
            self.descriptor_worker.close()
