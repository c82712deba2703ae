"""Door decisions per tracked face: consensus, liveness, allowed, schedule; one unlock per visit.

A single frame is not enough to open a door: at the 0.4 threshold a stranger lands within 0.4
of someone about 5 % of the time, one noisy frame can flip a name, and a photo of an enrolled
person matches like the person. So a face (a *visit*: one track, from arrival to leaving) is
granted only when

1. a visit is decided on its best evidence: ``agree`` of the last ``within`` identifications name
   the same person, each within the threshold and clearly nearer than the next person (re-judged
   here with the decision's own threshold and margin, which may be stricter than the live
   labels'), and none of them has anyone else nearest within the threshold. A head that talks or
   turns gives one identification a little over the threshold among good ones (0.42-0.48 on
   real footage, its nearest view 0.23-0.33): it no longer resets the count, while a second
   person among the last ``within`` still stops it. ``within`` = ``agree`` is the older rule
   (``agree`` in a row),
2. that person is allowed, and inside one of their weekly windows (if they have any),
3. the face has shown itself alive (a blink, or a head turn whose nose parallax no picture can make,
   core.vision.liveness), watched on every frame from its arrival - on by default; and, when
   the screen and print check is required, its texture is a live face's (core.vision.texture).

Then the door gets one pulse (the door itself refuses pulses during its cooldown), and the
visit's verdict is final: staying in front of the camera never opens the door twice. A visit is
one person's, not one track's: a head turned away breaks a track, so a person let in gets no
new unlock until they have been out of sight for ``revisit_after`` seconds. Final
verdicts, unknown visitors, and visits that leave undecided are written to the access log with
a face snapshot and the descriptor the live loop's worker process computed (which "not this
person" needs; it is never recomputed in this process). An unknown face is grouped with its
earlier visits by its last few descriptors (core.door.visitors), and its entry carries the visitor's id.
Each logged face also goes to the review queue (core.door.review), with the quality of the shot.

Plugs into core.live.loop.LiveRecognizer as its ``decider``; update() runs on the frame thread, so
the access log is written by a small writer thread of the DoorDecider: the frame thread only copies
the face; the snapshot JPEG and the SQLite commit (an fsync) happen there.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from core.door.access_log import AccessEvent, AccessLog, EventRecorder
from core.door.review import RecentFaces
from core.door.schedule import Schedules
from core.door.visitors import Visitors
from core.errors import UnknownPerson
from core.gallery.match import DEFAULT_MARGIN, DEFAULT_THRESHOLD, best_match
from core.gallery.stored_settings import StoredSettings
from core.records import Box, Candidate, Match
from core.vision.images import crop, encode_jpeg
from core.vision.liveness import FOLD_CUES, LivenessCheck, LivenessResult, LivenessSettings
from core.vision.quality import measure, sharpness
from core.vision.texture import MODES, TextureScorer

if TYPE_CHECKING:
    from core.door.base import Door, DoorStatus
    from core.gallery.api import Gallery

log = logging.getLogger("facegate.decide")

GRANTED = "Granted"
DENIED = "Denied"
DENIED_SCHEDULE = "Denied (schedule)"
UNKNOWN = "Unknown"
UNSURE = "Unsure"
IDENTIFYING = "Identifying"
CHECKING_LIVENESS = "Checking liveness"
NO_LIVENESS = "No liveness"
DOOR_ERROR = "Door error"
MANUAL_UNLOCK = "Manual unlock"
FINAL = (GRANTED, DENIED, DENIED_SCHEDULE)
VISIT_DESCRIPTORS = 5  # kept per visit, to group an unknown face with its earlier visits
PURGE_EVERY = 3600.0  # s between two deletions of old visitors' snapshots (core.door.visitors)


@dataclass
class DecisionSettings(StoredSettings):
    """Every number of the door decision; stored in the gallery (key "decision")."""

    KEY: ClassVar[str] = "decision"

    threshold: float = DEFAULT_THRESHOLD
    min_margin: float = DEFAULT_MARGIN
    agree: int = 3  # identifications (~3 frames apart) that must name the same person...
    within: int = 5  # ...among the visit's last `within` (none naming anyone else)
    revisit_after: float = 10.0  # s out of sight before a person let in can be let in again
    unknown_after: int = 3  # identifications naming nobody before a face is logged Unknown
    liveness: bool = True  # require a blink or head turn before unlocking
    blink: bool = True
    head_turn: bool = True
    blink_ratio: float = 0.5  # both eyes under this fraction of open...
    blink_frames: int = 2  # ...for this many frames in a row
    turn_parallax: float = 0.35  # the nose tip's parallax against the face's homography (eye distances)
    turn_bump: float = 0.10  # the tip out of both half-face planes (a folded sheet has none)
    turn_frames: int = 10  # frames that must show both
    strict_turn: bool = False  # a turn must also slide the outline and bend the midline
    # (core.vision.liveness.FOLD_CUES): refuses the folded sheets
    # dlib sees as a head, but a turn passes ~1.4 s later
    #: the screen and print check (core.vision.texture), part of the liveness check: "off",
    #: "advisory" (its verdict is logged, it never refuses) or "required"
    screen_check: str = "advisory"
    liveness_min_face: int = 60
    liveness_window: float = 10.0  # seconds of landmarks kept per visit
    snapshot_size: int = 160  # px, square JPEG in the access log

    def check(self) -> None:
        if not 0 < self.threshold < 2:
            raise ValueError(f"decision threshold {self.threshold} must be between 0 and 2")
        if self.min_margin < 0:
            raise ValueError("the decision margin cannot be negative")
        if self.agree < 1 or self.unknown_after < 1:
            raise ValueError("at least one identification must agree")
        if self.within < self.agree:
            raise ValueError(f"{self.agree} identifications cannot agree among the last {self.within}")
        if not 0 < self.blink_ratio < 1:
            raise ValueError(f"blink ratio {self.blink_ratio} must be between 0 and 1")
        if self.blink_frames < 1 or self.turn_frames < 1:
            raise ValueError("a blink and a turn need at least one frame")
        if self.turn_parallax <= 0 or self.turn_bump <= 0:
            raise ValueError("a head turn needs some parallax and some bump (0 would let a flat photo pass)")
        if self.screen_check not in MODES:
            raise ValueError(f"screen and print check {self.screen_check!r}: choose one of {', '.join(MODES)}")

    def liveness_settings(self) -> LivenessSettings:
        return LivenessSettings(
            blink=self.blink,
            head_turn=self.head_turn,
            blink_ratio=self.blink_ratio,
            blink_frames=self.blink_frames,
            parallax=self.turn_parallax,
            bump=self.turn_bump,
            turn_frames=self.turn_frames,
            min_face=self.liveness_min_face,
            window=self.liveness_window,
            texture=self.screen_check,
            outline=FOLD_CUES["outline"] if self.strict_turn else 0.0,
            midline=FOLD_CUES["midline"] if self.strict_turn else 0.0,
        )


@dataclass
class Decision:
    """What the door made of one tracked face. ``final``: the visit's verdict will not change."""

    track: int
    person: str | None
    verdict: str
    reason: str
    person_id: int | None = None
    distance: float | None = None
    margin: float | None = None
    door: str = ""  # the door's answer to an unlock: 'unlocking', 'cooldown (…)', 'error: …'
    final: bool = False
    liveness: str = ""  # the cue that passed ("turned: parallax 0.31"), or what is still awaited


@dataclass
class _Visit:
    track: int
    decision: Decision
    last_match: Match | None = None
    face: tuple[np.ndarray, Box] | None = None  # a padded crop of the latest identified frame
    descriptor: np.ndarray | None = None  # that frame's descriptor, from the worker process
    descriptors: list[np.ndarray] = field(default_factory=list)  # the visit's latest few: how an unknown face is grouped
    liveness: LivenessCheck | None = None
    logged: bool = False
    matches: list[Match] = field(default_factory=list)


@dataclass
class _Pending:
    """What the writer thread needs besides the event: the face (a padded crop and the box in it),
    its descriptor, the visit's last few descriptors when it is unknown, its nearest people."""

    face: tuple[np.ndarray, Box] | None = None
    descriptor: np.ndarray | None = None
    unknown_face: list[np.ndarray] | None = None
    candidates: list[Candidate] = field(default_factory=list)


class DoorDecider:
    """Turns each track's identifications into a door decision; owns the one-unlock-per-visit rule."""

    def __init__(
        self,
        gallery: Gallery,
        door: Door | None = None,
        settings: DecisionSettings | None = None,
        access_log: EventRecorder | None = None,
        clock: Callable[[], datetime] = datetime.now,
        visitors: Visitors | None = None,
        recent: RecentFaces | None = None,
        keep_faces: bool = True,
        inline_texture: bool = False,
    ) -> None:
        """``keep_faces`` False is a dry run (``facegate replay`` without --log, with an in-memory
        ``access_log``): unknown faces are not grouped into visitors, no face joins the review
        queue and no old visitor is purged, so nothing is written to the gallery. ``inline_texture``
        scores faces for the screen and print check on the frame thread (a replay: the same video,
        the same verdicts); otherwise on a thread of its own."""
        self.gallery = gallery
        self.keep_faces = keep_faces
        self.settings = settings or DecisionSettings()
        self.settings.check()
        self.access_log: EventRecorder = access_log or AccessLog(gallery.store)
        self.visitors = visitors or Visitors(gallery.store)
        self.recent = recent or RecentFaces(gallery)
        self._purged_at: float | None = None
        self.schedules = Schedules(gallery.store)
        self.clock = clock  # local wall-clock time, for the weekly windows
        self._visits: dict[int, _Visit] = {}
        self._let_in: dict[int, float] = {}  # person id -> last time seen since they were let in
        self.on_logged: list[Callable[[AccessEvent], None]] = []  # called from the writer thread
        # checks that may veto any grant, each returning why (or None): e.g. core.site's offline policy
        self.gates: list[Callable[[], str | None]] = []
        self._pending: queue.Queue = queue.Queue()
        self._writer: threading.Thread | None = None
        self._writer_lock = threading.Lock()
        if self.settings.liveness:  # 470 ms holding the GIL: now, not at the first face
            gallery.describer.preload("shape68")
        self._inline_texture = inline_texture
        self._scorer: TextureScorer | None = None
        if self.settings.liveness and self.settings.screen_check != "off":
            self.texture_scorer()  # a missing or damaged model is an error at start, not at the first face
        self.set_door(door)

    def set_door(self, door: Door | None) -> None:
        """Send unlocks to another door output (its settings changed); the caller closes the old one."""
        self.door = door
        if door is not None:
            door.add_listener(self._door_changed)

    # -- the hook -------------------------------------------------------------------------------
    def update(
        self,
        track_id: int,
        matches: list[Match],
        rgb: np.ndarray,
        box: Box,
        timestamp: float,
        descriptor: np.ndarray | None = None,
    ) -> Decision:
        """``descriptor``: the one behind the newest match, logged so "not this person" can mark the
        face later. It comes from the caller (the live loop's worker process): computing it here
        would hold the GUI process's GIL for ~15 ms, and loading the model for half a second."""
        visit = self._visits.get(track_id)
        if visit is None:
            visit = self._visits[track_id] = _Visit(track_id, Decision(track_id, None, IDENTIFYING, "looking"))
        if matches and matches[-1] is not visit.last_match:
            visit.last_match = matches[-1]
            visit.face = _padded(rgb, box)
            visit.descriptor = descriptor
            if descriptor is not None:
                visit.descriptors = [*visit.descriptors[-(VISIT_DESCRIPTORS - 1) :], descriptor]
        visit.matches = matches
        if not visit.decision.final:
            # watched from the face's arrival, every frame until the verdict: a head turns as it
            # comes in, and the landmark noise is measured between consecutive frames
            alive = self._liveness(visit).observe(rgb, box, timestamp) if self.settings.liveness else None
            visit.decision = self._judge(visit, matches, alive, timestamp)
            if alive is not None and not visit.decision.liveness:
                visit.decision = replace(visit.decision, liveness=alive.reason)
        elif visit.decision.verdict == GRANTED:
            self._still_here(visit.decision.person_id, timestamp)
        return visit.decision

    def _still_here(self, person_id: int | None, ts: float) -> None:
        """Keep a let-in person's visit going while they are seen; it ends after revisit_after away."""
        if person_id in self._let_in:
            if ts - self._let_in[person_id] > self.settings.revisit_after:
                del self._let_in[person_id]
            else:
                self._let_in[person_id] = ts

    def track_lost(self, track_id: int) -> None:
        """The face left: log a visit that never reached a verdict worth logging (undecided)."""
        visit = self._visits.pop(track_id, None)
        if visit is None or visit.logged or not visit.matches:
            return
        d = visit.decision
        judged = [self._judged(m) for m in visit.matches[-self.settings.unknown_after :]]
        if d.verdict == UNSURE and self._nobody(judged):  # left before unknown_after, matching no one
            d = replace(d, verdict=UNKNOWN, reason=judged[-1].reason)
        verdict = {CHECKING_LIVENESS: NO_LIVENESS, IDENTIFYING: UNSURE}.get(d.verdict, d.verdict)
        reason = d.reason if verdict == d.verdict else f"left while {d.verdict.lower()}: {d.reason}"
        self._log(visit, replace(d, verdict=verdict, reason=reason))

    def _nobody(self, judged: list[Match]) -> bool:
        """Every identification is over the threshold (or the gallery is empty)."""
        return all(not m.candidates or (m.distance or 0) > self.settings.threshold for m in judged)

    # -- judging ----------------------------------------------------------------------------------
    def _judged(self, m: Match) -> Match:
        """The identification re-judged with this decision's threshold and margin."""
        return best_match(m.candidates, self.settings.threshold, self.settings.min_margin) if m.candidates else m

    def _judge(self, visit: _Visit, matches: list[Match], alive: LivenessResult | None, ts: float) -> Decision:
        s = self.settings
        track = visit.track
        if not matches:
            return Decision(track, None, IDENTIFYING, "waiting for the first identification")
        recent = [self._judged(m) for m in matches[-max(s.within, s.unknown_after) :]]
        last = recent[-1]
        if last.matched:
            self._still_here(last.person_id, ts)
        window = recent[-s.within :]
        agreeing, rivals = self._agreeing(window)
        if len(agreeing) >= s.agree and not rivals:
            return self._for_person(visit, agreeing, alive, ts)
        nobody = recent[-s.unknown_after :]
        if len(nobody) == s.unknown_after and self._nobody(nobody):
            decision = Decision(track, None, UNKNOWN, last.reason, None, last.distance, last.margin)
            if not visit.logged:
                decision = self._log(visit, decision)
            return decision
        if agreeing and not rivals and len(window) < s.within:
            lead = agreeing[-1]
            return Decision(
                track,
                lead.name,
                IDENTIFYING,
                f"{len(agreeing)} of {s.agree} identifications of {lead.name} so far",
                lead.person_id,
                lead.distance,
                lead.margin,
            )
        if rivals:
            names = sorted({m.name for m in agreeing if m.name} | rivals)
            why = f"identifications disagree ({', '.join(names)})"
        elif agreeing:
            why = f"{agreeing[-1].name} in only {len(agreeing)} of the last {len(window)} identifications"
        else:
            why = last.reason
        return Decision(track, None, UNSURE, why, None, last.distance, last.margin)

    def _agreeing(self, window: list[Match]) -> tuple[list[Match], set[str]]:
        """The identifications of the person the window's latest match names, and everyone else
        who is nearest within the threshold anywhere in the window (a rival, even when unsure)."""
        named = [m for m in window if m.matched]
        if not named:
            return [], set()
        lead = named[-1].person_id
        rivals = {
            m.candidates[0].name
            for m in window
            if m.candidates and m.candidates[0].person_id != lead and m.candidates[0].distance <= self.settings.threshold
        }
        return [m for m in named if m.person_id == lead], rivals

    def _for_person(self, visit: _Visit, agreeing: list[Match], alive: LivenessResult | None, ts: float) -> Decision:
        s = self.settings
        latest = agreeing[-1]
        worst = max(m.distance for m in agreeing if m.distance is not None)  # all of them: they matched
        margins = [m.margin for m in agreeing if m.margin is not None]
        evidence = f"{len(agreeing)} of the last {s.within} identifications agree, distance ≤ {worst:.3f}" + (
            f", margin ≥ {min(margins):.3f}" if margins else ", no other person to compare"
        )
        base = Decision(visit.track, latest.name, UNSURE, evidence, latest.person_id, worst, min(margins) if margins else None)
        assert latest.person_id is not None  # they matched: each names a person
        try:
            person = self.gallery.store.person(latest.person_id)  # fresh: 'allowed' may have just changed
        except UnknownPerson:
            return replace(base, reason=f"{latest.name} was removed from the gallery")
        if not person.allowed:
            return self._finish(visit, replace(base, verdict=DENIED, reason=f"{person.name} is not allowed in; {evidence}"))
        vetoes = [why for why in (gate() for gate in self.gates) if why]
        if vetoes:
            return self._finish(visit, replace(base, verdict=DENIED, reason=f"{vetoes[0]}; {evidence}"))
        inside, why = self.schedules.allows(person.id, self.clock())
        if not inside:
            return self._finish(visit, replace(base, verdict=DENIED_SCHEDULE, reason=f"{why}; {evidence}"))
        if alive is not None:
            base = replace(base, liveness=alive.reason)
            if not alive.passed:
                return replace(base, verdict=CHECKING_LIVENESS, reason=f"{alive.reason} ({evidence})")
            evidence += f"; {alive.reason}"
        granted = replace(base, verdict=GRANTED, reason=f"{person.name}: {evidence}")
        if person.id in self._let_in:  # the same visit, on a new track: no second unlock, no second entry
            visit.logged = True
            return replace(granted, final=True, door="already unlocked for this visit")
        answer = self.door.unlock() if self.door is not None else "no door output configured"
        if answer.startswith("cooldown"):  # someone else was just let in: try again on the next frames
            return replace(granted, door=answer)
        self._let_in[person.id] = ts
        return self._finish(visit, replace(granted, door=answer))

    def _liveness(self, visit: _Visit) -> LivenessCheck:
        if visit.liveness is None:
            scorer = self.texture_scorer() if self.settings.screen_check != "off" else None
            visit.liveness = LivenessCheck(self.gallery.describer, self.settings.liveness_settings(), scorer)
        return visit.liveness

    def texture_scorer(self) -> TextureScorer:
        """The screen and print check's model, loaded when the check is first on (ModelError if it cannot be)."""
        if self._scorer is None:
            self._scorer = TextureScorer(inline=self._inline_texture)
        return self._scorer

    def _finish(self, visit: _Visit, decision: Decision) -> Decision:
        return self._log(visit, replace(decision, final=True))

    # -- logging ----------------------------------------------------------------------------------
    def _log(self, visit: _Visit, decision: Decision) -> Decision:
        """Queue the decision for the access log with the face (written on the writer thread)."""
        visit.logged = True
        last = visit.last_match
        runner = last.candidates[1] if last and len(last.candidates) > 1 else None
        self._queue(
            AccessEvent(
                decision.verdict,
                decision.person,
                decision.person_id,
                decision.reason,
                decision.distance,
                decision.margin,
                runner.name if runner else None,
                runner.distance if runner else None,
                decision.door,
                visit.track,
            ),
            _Pending(
                visit.face,
                visit.descriptor,
                visit.descriptors if decision.verdict == UNKNOWN else None,
                last.candidates if last else [],
            ),
        )
        return decision

    def note(self, verdict: str, reason: str, door: str = "") -> None:
        """Log something that happened at the door without a face (a failure, a manual unlock)."""
        self._queue(AccessEvent(verdict, reason=reason, door=door), _Pending())

    def _door_changed(self, status: DoorStatus) -> None:
        if status.state == "error":
            self.note(DOOR_ERROR, status.error or "door failure", "error")

    def _queue(self, event: AccessEvent, pending: _Pending) -> None:
        with self._writer_lock:
            if self._writer is None:
                self._writer = threading.Thread(target=self._write_events, name="access-log", daemon=True)
                self._writer.start()
        self._pending.put((event, pending))

    def _write_events(self) -> None:
        while True:
            item = self._pending.get()
            try:
                if item is None:
                    return
                event, pending = item
                if self.keep_faces:
                    self._purge_old_visitors()
                event.descriptor = pending.descriptor
                quality = 0.0
                if pending.face is not None:
                    region, rel = pending.face
                    picture = crop(region, rel, size=self.settings.snapshot_size)
                    event.snapshot = encode_jpeg(picture, 85)
                    quality = sharpness(picture) * min(1.0, rel.width / 100)  # sharp and big: the best snapshot
                if pending.unknown_face and self.keep_faces:
                    self._group(event, pending.unknown_face, quality)
                self.access_log.record(event)
                if pending.face is not None and pending.descriptor is not None and self.keep_faces:
                    self._review(event, pending)
                for callback in list(self.on_logged):
                    callback(event)
            except Exception:  # a failing log must never stop the door or the video
                log.exception("writing the access log failed")
            finally:
                self._pending.task_done()

    def _review(self, event: AccessEvent, pending: _Pending) -> None:
        """Put the visit's face in the review queue (with the quality of the shot), which learns
        from it after a grant when learning mode is on. A failure here still logs the event."""
        assert pending.face is not None and pending.descriptor is not None
        try:
            region, rel = pending.face
            chip, points = self.gallery.describer.chip(region, rel)  # 5-point landmarks: ~1 ms
            self.recent.record(
                event,
                pending.descriptor,
                measure(chip, rel, None, points),
                pending.candidates,
                live_grant=event.verdict == GRANTED,
            )
        except Exception:
            log.exception("queueing the face for review failed")

    def _purge_old_visitors(self) -> None:
        """At the first event and then hourly: delete what the retention period says must go."""
        if self._purged_at is not None and time.monotonic() - self._purged_at < PURGE_EVERY:
            return
        self._purged_at = time.monotonic()
        try:
            self.visitors.purge()
        except Exception:
            log.exception("deleting old visitors failed; the next try is in an hour")

    def _group(self, event: AccessEvent, descriptors: list[np.ndarray], quality: float) -> None:
        """Give an unknown face its visitor id (its earlier visits' or a new one). A failure here
        still logs the event."""
        try:
            event.visitor_id, _new = self.visitors.assign(descriptors, event.time, event.snapshot, quality)
        except Exception:
            log.exception("grouping an unknown visitor failed; the event is logged without a visitor")

    def flush(self) -> None:
        """Wait until every queued access-log entry is written."""
        self._pending.join()

    def close(self) -> None:
        """Write what is queued and stop the writer thread."""
        with self._writer_lock:
            writer, self._writer = self._writer, None
        if writer is not None:
            self._pending.put(None)
            writer.join()
        if self._scorer is not None:
            self._scorer.close()


def _padded(rgb: np.ndarray, box: Box, pad: float = 0.5) -> tuple[np.ndarray, Box]:
    """A copy of the face with room around it, and the box inside that copy: enough to make a
    snapshot and a descriptor later without keeping the whole frame."""
    outer = box.padded(int(box.width * pad), int(box.height * pad)).clipped(rgb.shape)
    return outer.cut(rgb).copy(), Box(box.left - outer.left, box.top - outer.top, box.right - outer.left, box.bottom - outer.top)
