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

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import numpy as np

from core.door.access_log import AccessEvent, AccessLog, EventRecorder
from core.door.base import Holder
from core.door.factors import CardReader, Lockouts, pin_answer, same_card
from core.door.passes import Passes
from core.door.policy import Decision, DecisionSettings, GrantPolicy, Standing
from core.door.recorders import FaceRecorders
from core.door.review import RecentFaces
from core.door.schedule import Schedules
from core.door.verdict import Verdict
from core.door.visitors import Visitors
from core.door.writer import EventWriter, LoggedFace
from core.errors import StoreError, UnknownPerson
from core.records import Box, Match
from core.vision.liveness import LivenessCheck, LivenessResult
from core.vision.room import RoomWatcher
from core.vision.texture import TextureScorer

if TYPE_CHECKING:
    from core.door.base import Door, DoorStatus
    from core.gallery.api import Gallery


VISIT_DESCRIPTORS = 5  # kept per visit, to group an unknown face with its earlier visits
AWAITING = (Verdict.AWAITING_PIN, Verdict.AWAITING_CARD)
log = logging.getLogger("facegate.decide")


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
    # a second factor (core.door.factors): the Awaiting decision a right answer turns into a
    # grant, when it was (last) asked for on the frames' clock, and the right answer once given
    pending: Decision | None = None
    asked: float | None = None
    answer: str | None = None  # 'pin', 'duress' or 'card'
    answer_for: int | None = None  # whose PIN or card it was: it opens for that person only
    # the newest identification when the liveness check first passed (None: before any), and that
    # it has passed: the face that blinked or turned must be named afterwards (after_liveness)
    live_mark: Match | None = None
    live_seen: bool = False


#: identifications that must follow the liveness cue before a grant: the one that may have been
#: in flight when the cue came (its frame from before it) and one of a frame after it
AFTER_LIVENESS = 2


def after_liveness(visit: _Visit, matches: list[Match], alive: LivenessResult) -> LivenessResult:
    """``alive`` held back until the face that passed it is the one named: a photo of someone
    enrolled held up until they were named, then lowered to blink with the holder's own face,
    must not open for them in the descriptor's round trip before the swap shows (a new face in
    the box resets the track: core.live.loop). A cue counts once AFTER_LIVENESS identifications
    came after it, the newest naming someone (the policy then checks it is the visit's person)."""
    if not alive.passed:
        return alive
    if not visit.live_seen:
        visit.live_seen, visit.live_mark = True, matches[-1] if matches else None
    at = next((i for i in range(len(matches) - 1, -1, -1) if matches[i] is visit.live_mark), -1)
    after = matches[at + 1 :]
    if len(after) >= AFTER_LIVENESS and after[-1].matched:
        return alive
    return replace(alive, passed=False, reason=f"{alive.reason}; naming the face that did it")


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
        # the frame thread decides; the keypad (GUI thread) and card readers (theirs) answer
        self._lock = threading.RLock()
        self.lockouts = Lockouts(settings.factor_tries, settings.lockout_seconds)
        self._asking: _Visit | None = None  # the visit the keypad and card readers answer for
        self._now = 0.0  # the latest frame's time: what a PIN or card arrives at
        # checks that may veto any grant, each returning why (or None): e.g. core.site's offline policy
        self.gates: list[Callable[[], str | None]] = []
        # the site's anti-passback (core.site.passback), asked once per visit just before the door
        # opens: person id -> (may pass, what to log: a soft violation, unchecked while offline)
        self.passage: Callable[[int], tuple[bool, str]] | None = None
        if settings.liveness:  # 470 ms holding the GIL: now, not at the first face
            gallery.describer.preload("shape68")
        self._inline_texture = inline_texture
        self._scorer: TextureScorer | None = None
        self.room = RoomWatcher()  # the camera's empty room, for the screen and print check (core.vision.room)
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
        self.lockouts.tries, self.lockouts.seconds = settings.factor_tries, settings.lockout_seconds

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
        with self._lock:
            self._now = timestamp
            return self._update(track_id, matches, rgb, box, timestamp, descriptor)

    def _update(
        self, track_id: int, matches: list[Match], rgb: np.ndarray, box: Box, timestamp: float, descriptor: np.ndarray | None
    ) -> Decision:
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
            alive = None if alive is None else after_liveness(visit, matches, alive)
            if matches:
                last = self.policy.judged(matches[-1])
                if last.matched:
                    self._still_here(last.person_id, timestamp)
            visit.decision = self._act(visit, self.policy.decide(track_id, matches, alive, self._standing), timestamp)
            if visit.decision.final and self._asking is visit:  # refused meanwhile (blocked, a gate): others may answer
                self._asking = None
        elif visit.decision.verdict == Verdict.GRANTED:
            self._still_here(visit.decision.person_id, timestamp)
        return visit.decision

    def _act(self, visit: _Visit, decision: Decision, ts: float) -> Decision:
        """Carry out the policy's decision: a grant pulses the door once per visit, a final verdict
        and the first Unknown go to the access log; a face that needs a second factor waits for it."""
        if decision.verdict in AWAITING:
            return self._second_factor(visit, decision, ts)
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

    # -- the second factor ------------------------------------------------------------------------
    def _second_factor(self, visit: _Visit, asking: Decision, ts: float) -> Decision:
        """The face is granted, its person needs a PIN or card: ask (one visit at a time answers
        the keypad and card readers), grant once the right one came, give up after the timeout."""
        current = self._asking
        if current is not None and current is not visit and self._visits.get(current.track) is current:
            return replace(asking, reason=f"waiting: {current.decision.person} is answering first; {asking.reason}")
        self._asking, visit.pending = visit, asking
        if visit.answer is not None and visit.answer_for != asking.person_id:  # the face became someone else's
            visit.answer, visit.answer_for, visit.asked = None, None, None  # their PIN or card opens only for them
        if visit.answer is not None:  # answered right; the door was in its cooldown: try again
            return self._granted_by(visit, ts)
        if visit.asked is None:
            visit.asked = ts
        if ts - visit.asked > self.settings.factor_timeout:
            self._asking = None
            what, verdict = ("PIN", Verdict.NO_PIN) if asking.verdict == Verdict.AWAITING_PIN else ("card", Verdict.NO_CARD)
            reason = f"no {what} within {self.settings.factor_timeout:g} s; {asking.reason}"
            return self._log(visit, replace(asking, verdict=verdict, reason=reason, final=True))
        return asking

    def _granted_by(self, visit: _Visit, ts: float) -> Decision:
        """Open for a visit whose second factor was right. A duress PIN opens exactly the same
        way, with the same words on the screen and in the grant's entry; only a Duress entry
        beside it (and its events out) says otherwise. The alarm goes out when the duress PIN is
        taken, whether the door opens then or is still in its cooldown: a visit that ends before
        the door is free again must not swallow it."""
        asking = visit.pending
        assert asking is not None and visit.answer is not None
        how = "card presented" if visit.answer == "card" else "PIN entered"
        decision = self._unlock(visit, replace(asking, verdict=Verdict.GRANTED, reason=f"{asking.reason}; {how}"), ts)
        if visit.answer == "duress":
            visit.answer = "pin"  # one alarm per visit
            door = "the door opened as usual" if decision.final else "the door was busy and opens when it can"
            alarm = f"duress PIN entered by {decision.person}; {door} ({decision.door})"
            self._entry(visit, replace(decision, verdict=Verdict.DURESS, reason=alarm, final=True), review=False)
        if decision.final and self._asking is visit:
            self._asking = None
        return decision

    def enter_pin(self, pin: str) -> str:
        """A PIN typed on the keypad (the GUI thread), for the visit the door is asking. Returns
        what the keypad says: "" when it was taken - right, or the duress PIN, alike - else why
        not. The slow hash runs outside the lock: the frame thread never waits for it."""
        with self._lock:
            visit = self._asking
            if visit is None or visit.pending is None or visit.pending.verdict != Verdict.AWAITING_PIN or visit.decision.final:
                return "No PIN is asked for now"
            person_id = visit.pending.person_id
        assert person_id is not None
        outcome = pin_answer(*self.gallery.store.pins(person_id), pin)
        with self._lock:
            if self._asking is not visit or visit.decision.final or visit.pending is None or visit.pending.person_id != person_id:
                return "Too late: look at the camera again"  # ...or the face was named someone else meanwhile
            return self._answered(visit, outcome)

    def present_card(self, number: str) -> str:
        """A card read (a CardReader's listener, any thread), for the visit the door is asking;
        returns what the screen says, as enter_pin does."""
        with self._lock:
            visit = self._asking
            if visit is None or visit.pending is None or visit.pending.verdict != Verdict.AWAITING_CARD or visit.decision.final:
                log.info("a card was read while no card is asked for")
                return "No card is asked for now"
            assert visit.pending.person_id is not None
            try:
                person = self.gallery.store.person(visit.pending.person_id)
                holder = self.gallery.store.person_with_card(number)
            except StoreError:  # removed meanwhile, or not a card number at all
                holder = None
                person = None
            if person is not None and same_card(person.card, number):
                return self._answered(visit, "card")
            whose = f"the card of {holder.name}" if holder is not None else "a card nobody here holds"
            return self._answered(visit, "wrong", whose)

    def listen_to(self, reader: CardReader) -> None:
        """Take card reads from ``reader`` (the window's USB HID reader, the OSDP panel)."""
        reader.add_listener(self.present_card)

    def _answered(self, visit: _Visit, outcome: str, detail: str = "") -> str:
        """Carry out a PIN's or card's outcome for the asking visit (under the lock)."""
        asking = visit.pending
        assert asking is not None and asking.person_id is not None
        card = asking.verdict == Verdict.AWAITING_CARD
        what = "card" if card else "PIN"
        if outcome != "wrong":
            self.lockouts.passed(asking.person_id)
            visit.answer, visit.answer_for = outcome, asking.person_id
            visit.decision = self._granted_by(visit, self._now)
            return ""
        left = self.lockouts.failed(asking.person_id, self._now)
        wrong = f"wrong {what} for {asking.person}" + (f" ({detail})" if detail else "")
        more = f"{left} more {'try' if left == 1 else 'tries'}" if left else "locked out"
        self._entry(
            visit,
            replace(
                asking,
                verdict=Verdict.WRONG_CARD if card else Verdict.WRONG_PIN,
                reason=f"{wrong}: refused, {more}; {asking.reason}",
            ),
            review=False,
        )
        if left:
            visit.asked = self._now  # the next try gets the whole time again
            return f"Wrong {what}"
        self._asking = None
        s = self.settings
        why = f"{s.factor_tries} wrong {what}s in a row: {asking.person} is locked out for {s.lockout_seconds:g} s"
        visit.decision = self._log(
            visit, replace(asking, verdict=Verdict.LOCKED_OUT, reason=f"{why}; {asking.reason}", final=True)
        )
        return f"Wrong {what}"

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
        locked = self.lockouts.locked(person.id, self._now)
        return Standing(
            person.name,
            outside=None if inside else why,
            access=person.access,
            locked_out=f"{person.name} is locked out for {locked:.0f} s more after wrong PINs or cards" if locked else None,
        )

    def _still_here(self, person_id: int | None, ts: float) -> None:
        """Keep a let-in person's visit going while they are seen; it ends after revisit_after away."""
        if person_id in self._let_in:
            if ts - self._let_in[person_id] > self.settings.revisit_after:
                del self._let_in[person_id]
            else:
                self._let_in[person_id] = ts

    def frame(self, rgb: np.ndarray, faces: list[Box], timestamp: float) -> None:
        """Every frame of the camera with every face in it (the live loop's): the room is learned
        from the face-free ones while the screen and print check is on, and its changes logged."""
        if self.settings.liveness and self.settings.screen_check != "off":
            said = self.room.watch(rgb, faces, timestamp)
            if said is not None:  # a camera covered or moved: on the record before any face comes
                self.note(Verdict.VIEW_CHANGED, said)

    def track_lost(self, track_id: int) -> None:
        """The face left: log a visit that never reached a verdict worth logging (undecided, or
        still awaiting its PIN or card: the keypad no longer answers for it)."""
        with self._lock:
            visit = self._visits.pop(track_id, None)
            if visit is not None and self._asking is visit:
                self._asking = None
            if visit is None or visit.logged or not visit.matches:
                return
            self._log(visit, self.policy.left(visit.decision, visit.matches))

    def _liveness(self, visit: _Visit) -> LivenessCheck:
        if visit.liveness is None:
            scorer = self.texture_scorer() if self.settings.screen_check != "off" else None
            visit.liveness = LivenessCheck(self.gallery.describer, self.settings.liveness_settings(), scorer, self.room)
        return visit.liveness

    def texture_scorer(self) -> TextureScorer:
        """The screen and print check's model, loaded when the check is first on (ModelError if it cannot be)."""
        if self._scorer is None:
            self._scorer = TextureScorer(inline=self._inline_texture)
        return self._scorer

    # -- logging ----------------------------------------------------------------------------------
    def _log(self, visit: _Visit, decision: Decision) -> Decision:
        """Queue the visit's verdict for the access log with the face (written on the writer thread)."""
        visit.logged = True
        self._entry(visit, decision)
        return decision

    def _entry(self, visit: _Visit, decision: Decision, review: bool = True) -> None:
        """Queue one access-log entry about the visit. ``review`` False (a wrong PIN or card, a
        duress alarm: more entries of the same visit) keeps the snapshot but leaves the face out
        of the review queue and "not this person", which the visit's own verdict carries."""
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
                visit.descriptor if review else None,
                visit.descriptors if decision.verdict == Verdict.UNKNOWN else None,
                last.candidates if last else [],
            ),
        )

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
