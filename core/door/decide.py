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
2. that person is allowed, inside their visitor pass (if they hold one, core.door.passes: read at
   this moment, so an expired pass refuses at once, whatever the last sync), and inside one of
   their weekly windows (if they have any),
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

Plugs into core.live.loop.LiveRecognizer as its ``decider``. The DoorDecider assembles the jobs:
the rule itself is core.door.policy (pure, frame by frame); the decider keeps each visit's state
(its liveness check, its face, who was let in), reads a named person's standing (allowed, gates,
schedule), pulses the door once per visit, and hands what is to be logged to core.door.writer,
whose thread writes the access log and the recorders of core.door.recorders (visitors, review
queue, purge): update() runs on the frame thread, which only copies the face.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import numpy as np

from core.door.access_log import AccessEvent, AccessLog, EventRecorder
from core.door.base import Holder
from core.door.passes import Passes
from core.door.policy import Decision, DecisionSettings, GrantPolicy, Standing
from core.door.recorders import FaceRecorders
from core.door.review import RecentFaces
from core.door.schedule import Schedules
from core.door.verdict import Verdict
from core.door.visitors import Visitors
from core.door.writer import EventWriter, LoggedFace
from core.errors import UnknownPerson
from core.records import Box, Match
from core.vision.liveness import LivenessCheck
from core.vision.texture import TextureScorer

if TYPE_CHECKING:
    from core.door.base import Door, DoorStatus
    from core.gallery.api import Gallery


VISIT_DESCRIPTORS = 5  # kept per visit, to group an unknown face with its earlier visits


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
    passage: str | None = None  # the anti-passback's note once the passage was claimed ("" when clean)


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
        settings = settings or DecisionSettings()
        settings.check()
        self.access_log: EventRecorder = access_log or AccessLog(gallery.store)
        self.visitors = visitors or Visitors(gallery.store)
        self.recent = recent or RecentFaces(gallery)
        recorders = FaceRecorders(gallery, self.visitors, self.recent) if keep_faces else None
        self.writer = EventWriter(self.access_log, settings.snapshot_size, recorders)
        self.on_logged = self.writer.on_logged  # called from the writer thread
        self.policy = GrantPolicy(settings)
        self.schedules = Schedules(gallery.store)
        self.passes = Passes(gallery.store)
        self.clock = clock  # local wall-clock time, for the weekly windows
        self._visits: dict[int, _Visit] = {}
        self._let_in: dict[int, float] = {}  # person id -> last time seen since they were let in
        # checks that may veto any grant, each returning why (or None): e.g. core.site's offline policy
        self.gates: list[Callable[[], str | None]] = []
        # the site's anti-passback (core.site.passback), asked once per visit just before the door
        # opens: person id -> (may pass, what to log: a soft violation, unchecked while offline)
        self.passage: Callable[[int], tuple[bool, str]] | None = None
        if settings.liveness:  # 470 ms holding the GIL: now, not at the first face
            gallery.describer.preload("shape68")
        self._inline_texture = inline_texture
        self._scorer: TextureScorer | None = None
        if settings.liveness and settings.screen_check != "off":
            self.texture_scorer()  # a missing or damaged model is an error at start, not at the first face
        self.set_door(door)

    @property
    def settings(self) -> DecisionSettings:
        return self.policy.settings

    @settings.setter
    def settings(self, settings: DecisionSettings) -> None:
        """New numbers (the window's Door settings, a replay trying others): from the next frame."""
        self.policy = GrantPolicy(settings)
        self.writer.snapshot_size = settings.snapshot_size

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
            visit = self._visits[track_id] = _Visit(track_id, Decision(track_id, None, Verdict.IDENTIFYING, "looking"))
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
            if matches:
                last = self.policy.judged(matches[-1])
                if last.matched:
                    self._still_here(last.person_id, timestamp)
            visit.decision = self._act(visit, self.policy.decide(track_id, matches, alive, self._standing), timestamp)
        elif visit.decision.verdict == Verdict.GRANTED:
            self._still_here(visit.decision.person_id, timestamp)
        return visit.decision

    def _act(self, visit: _Visit, decision: Decision, ts: float) -> Decision:
        """Carry out the policy's decision: a grant pulses the door once per visit, a final verdict
        and the first Unknown go to the access log."""
        if decision.verdict == Verdict.GRANTED:
            return self._unlock(visit, decision, ts)
        if decision.final or (decision.verdict == Verdict.UNKNOWN and not visit.logged):
            self._log(visit, decision)
        return decision

    def _unlock(self, visit: _Visit, granted: Decision, ts: float) -> Decision:
        person_id = granted.person_id
        assert person_id is not None  # a grant names a person
        if person_id in self._let_in:  # the same visit, on a new track: no second unlock, no second entry
            visit.logged = True
            return replace(granted, final=True, door="already unlocked for this visit")
        if self.passage is not None:
            if visit.passage is None:  # claimed once: a door in its cooldown retries the pulse, not the claim
                allowed, visit.passage = self.passage(person_id)
                if not allowed:
                    refused = replace(granted, verdict=Verdict.DENIED, reason=f"{visit.passage}; {granted.reason}", final=True)
                    return self._log(visit, refused)
            if visit.passage:
                granted = replace(granted, reason=f"{granted.reason}; {visit.passage}")
        answer = self.door.unlock(self._holder(granted)) if self.door is not None else "no door output configured"
        if answer.startswith("cooldown"):  # someone else was just let in: try again on the next frames
            return replace(granted, door=answer)
        self._let_in[person_id] = ts
        return self._log(visit, replace(granted, door=answer, final=True))

    def _holder(self, granted: Decision) -> Holder:
        """Whom the door opens for, with their card number (a card reader output sends it)."""
        assert granted.person_id is not None
        try:
            person = self.gallery.store.person(granted.person_id)
        except UnknownPerson:
            return Holder(granted.person_id, granted.person or "", None)
        return Holder(person.id, person.name, person.card)

    def _standing(self, person_id: int) -> Standing | None:
        """The person as the door must see them now: read fresh, 'allowed' may have just changed."""
        try:
            person = self.gallery.store.person(person_id)
        except UnknownPerson:
            return None
        if not person.allowed:
            return Standing(person.name, allowed=False)
        vetoes = [why for why in (gate() for gate in self.gates) if why]
        if vetoes:
            return Standing(person.name, veto=vetoes[0])
        now = self.clock()
        expired = self.passes.refusal(person.id, now.astimezone(timezone.utc))  # at this moment, not at the last sync
        if expired:
            return Standing(person.name, outside=expired)
        inside, why = self.schedules.allows(person.id, now)
        return Standing(person.name, outside=None if inside else why)

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
        self._log(visit, self.policy.left(visit.decision, visit.matches))

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

    # -- logging ----------------------------------------------------------------------------------
    def _log(self, visit: _Visit, decision: Decision) -> Decision:
        """Queue the decision for the access log with the face (written on the writer thread)."""
        visit.logged = True
        last = visit.last_match
        runner = last.candidates[1] if last and len(last.candidates) > 1 else None
        self.writer.put(
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
            LoggedFace(
                visit.face,
                visit.descriptor,
                visit.descriptors if decision.verdict == Verdict.UNKNOWN else None,
                last.candidates if last else [],
            ),
        )
        return decision

    def note(self, verdict: Verdict, reason: str, door: str = "") -> None:
        """Log something that happened at the door without a face (a failure, a manual unlock)."""
        self.writer.put(AccessEvent(verdict, reason=reason, door=door))

    def _door_changed(self, status: DoorStatus) -> None:
        if status.state == "error":
            self.note(Verdict.DOOR_ERROR, status.error or "door failure", "error")

    def flush(self) -> None:
        """Wait until every queued access-log entry is written."""
        self.writer.flush()

    def close(self) -> None:
        """Write what is queued and stop the writer thread."""
        self.writer.close()
        if self._scorer is not None:
            self._scorer.close()


def _padded(rgb: np.ndarray, box: Box, pad: float = 0.5) -> tuple[np.ndarray, Box]:
    """A copy of the face with room around it, and the box inside that copy: enough to make a
    snapshot and a descriptor later without keeping the whole frame."""
    outer = box.padded(int(box.width * pad), int(box.height * pad)).clipped(rgb.shape)
    return outer.cut(rgb).copy(), Box(box.left - outer.left, box.top - outer.top, box.right - outer.left, box.bottom - outer.top)
