"""The door's grant rule, on its own: from one visit's identifications, its liveness so far and
the standing of the person they name, what the door should do - with no gallery, door, thread
or clock of its own.

Why apart from the DoorDecider: this rule is what keeps the door shut for the wrong person, so it
reads and tests best as a function of its inputs, frame by frame (tests/core/door/test_policy.py).
The decider around it keeps the state (the visits, who was let in), asks the gallery, the gates
and the schedule for a person's ``Standing``, pulses the door and writes the log.

The rule (core.door.decide says why it is this one): ``agree`` of the last ``within``
identifications (each the track's template so far, core.live.tracking.Template) name the same person, each within the threshold and clearly nearer than the next
person (re-judged with the decision's own threshold and margin, which may be stricter than the
live labels', and each person's own stricter threshold, which travels with their Candidate), and
none of them has anyone else nearest within the door's threshold; then the person
must be allowed, pass every gate, be inside their weekly windows, and have shown itself alive.
A person whose access mode needs a second factor (core.door.factors) is then *asked* for it
(Awaiting PIN / Awaiting card), not granted: the decider grants when the right one arrives.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import ClassVar

from core.door.factors import NEEDS
from core.door.verdict import Verdict
from core.gallery.match import DEFAULT_MARGIN, DEFAULT_THRESHOLD, best_match
from core.gallery.stored_settings import StoredSettings
from core.records import Match
from core.vision.liveness import FOLD_CUES, LivenessResult, LivenessSettings
from core.vision.texture import MODES


@dataclass
class DecisionSettings(StoredSettings):
    """Every number of the door decision; stored in the gallery (key "decision")."""

    KEY: ClassVar[str] = "decision"
    DOOR_FIELDS: ClassVar[frozenset[str]] = frozenset(
        [
            "threshold",
            "min_margin",
            "agree",
            "within",
            "revisit_after",
            "unknown_after",
            "liveness",
            "blink",
            "head_turn",
            "talk",
            "blink_ratio",
            "blink_frames",
            "turn_parallax",
            "turn_bump",
            "turn_frames",
            "strict_turn",
            "screen_check",
            "room_required",
            "liveness_min_face",
            "liveness_window",
            "factor_timeout",
            "factor_tries",
            "lockout_seconds",
        ]
    )  # every field but the snapshot's size

    threshold: float = DEFAULT_THRESHOLD
    min_margin: float = DEFAULT_MARGIN
    agree: int = 3  # identifications (~3 frames apart) that must name the same person...
    within: int = 5  # ...among the visit's last `within` (none naming anyone else)
    revisit_after: float = 10.0  # s out of sight before a person let in can be let in again
    unknown_after: int = 3  # identifications naming nobody before a face is logged Unknown
    liveness: bool = True  # require a blink, head turn or talking before unlocking
    blink: bool = True
    head_turn: bool = True
    talk: bool = True  # lips shut, open, shut (core.vision.liveness: no sheet moves its lips)
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
    #: with it required, refuse until the door has learned its empty room (core.vision.room): a
    #: tablet filling the view before the door saw its room is judged by the texture alone otherwise
    room_required: bool = False
    liveness_min_face: int = 60
    liveness_window: float = 10.0  # seconds of landmarks kept per visit
    snapshot_size: int = 160  # px, square JPEG in the access log
    #: a second factor (core.door.factors): seconds to type the PIN or show the card once asked,
    #: wrong answers in a row before a lockout, and how long that lasts
    factor_timeout: float = 10.0
    factor_tries: int = 3
    lockout_seconds: float = 60.0

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
        if self.factor_timeout <= 0 or self.factor_tries < 1 or self.lockout_seconds < 0:
            raise ValueError("a second factor needs some time, at least one try, and a lockout of 0 s or more")
        if self.screen_check not in MODES:
            raise ValueError(f"screen and print check {self.screen_check!r}: choose one of {', '.join(MODES)}")
        if self.room_required and self.screen_check != "required":
            raise ValueError(
                "refusing until the door has seen its empty room is part of the screen and print check: set it to required"
            )

    def liveness_settings(self) -> LivenessSettings:
        return LivenessSettings(
            blink=self.blink,
            head_turn=self.head_turn,
            talk=self.talk,
            blink_ratio=self.blink_ratio,
            blink_frames=self.blink_frames,
            parallax=self.turn_parallax,
            bump=self.turn_bump,
            turn_frames=self.turn_frames,
            min_face=self.liveness_min_face,
            window=self.liveness_window,
            texture=self.screen_check,
            room_required=self.room_required,
            outline=FOLD_CUES["outline"] if self.strict_turn else 0.0,
            midline=FOLD_CUES["midline"] if self.strict_turn else 0.0,
        )


@dataclass
class Decision:
    """What the door made of one tracked face. ``final``: the visit's verdict will not change."""

    track: int
    person: str | None
    verdict: Verdict
    reason: str
    person_id: int | None = None
    distance: float | None = None
    margin: float | None = None
    door: str = ""  # the door's answer to an unlock: 'unlocking', 'cooldown (…)', 'error: …'
    final: bool = False
    liveness: str = ""  # the cue that passed ("turned: parallax 0.31"), or what is still awaited


@dataclass(frozen=True)
class Standing:
    """What the door knows of the person a visit names, read fresh when the identifications agree
    (an operator may have just refused them; a gate may have just closed). ``veto``: the first
    gate's reason to let nobody in; ``outside``: why their weekly windows keep them out now;
    ``access``: whether a PIN or card must follow the face; ``locked_out``: why not even that."""

    name: str
    allowed: bool = True
    veto: str | None = None
    outside: str | None = None
    access: str = "face"  # core.gallery.store.ACCESS_MODES: a second factor after the face?
    locked_out: str | None = None  # why wrong PINs or cards keep them out now


#: the standing of a person id, None when they were removed from the gallery
StandingOf = Callable[[int], Standing | None]


class GrantPolicy:
    """The grant rule over one visit's identifications. A Granted decision here means "open the
    door now": it becomes final once the door takes the pulse (DoorDecider's one unlock per visit);
    Denied and Denied (schedule) are final at once."""

    def __init__(self, settings: DecisionSettings) -> None:
        self.settings = settings

    def decide(self, track: int, matches: Sequence[Match], alive: LivenessResult | None, standing: StandingOf) -> Decision:
        """The decision on the visit's identifications so far (oldest first) and its liveness
        (None when liveness is off); ``standing`` is asked only once the identifications agree."""
        decision = self._decide(track, matches, alive, standing)
        if alive is not None and not decision.liveness:
            decision = replace(decision, liveness=alive.reason)
        return decision

    def left(self, decision: Decision, matches: Sequence[Match]) -> Decision:
        """What a visit that leaves before a final verdict is logged as: one that matched nobody
        is Unknown even before ``unknown_after`` identifications, one still checking liveness
        never showed itself alive, one still identifying was never sure."""
        d = decision
        judged = [self.judged(m) for m in matches[-self.settings.unknown_after :]]
        if d.verdict == Verdict.UNSURE and self.nobody(judged):
            d = replace(d, verdict=Verdict.UNKNOWN, reason=judged[-1].reason)
        verdict = d.verdict.when_left()
        reason = d.reason if verdict == d.verdict else f"left while {d.verdict.lower()}: {d.reason}"
        return replace(d, verdict=verdict, reason=reason)

    def judged(self, m: Match) -> Match:
        """The identification re-judged with this decision's threshold and margin."""
        return best_match(m.candidates, self.settings.threshold, self.settings.min_margin) if m.candidates else m

    def nobody(self, judged: Sequence[Match]) -> bool:
        """Every identification is over the threshold (or the gallery is empty)."""
        return all(not m.candidates or (m.distance or 0) > self.settings.threshold for m in judged)

    def _decide(self, track: int, matches: Sequence[Match], alive: LivenessResult | None, standing: StandingOf) -> Decision:
        s = self.settings
        if not matches:
            return Decision(track, None, Verdict.IDENTIFYING, "waiting for the first identification")
        recent = [self.judged(m) for m in matches[-max(s.within, s.unknown_after) :]]
        last = recent[-1]
        window = recent[-s.within :]
        agreeing, rivals = self._agreeing(window)
        if len(agreeing) >= s.agree and not rivals:
            return self._for_person(track, agreeing, alive, standing)
        nobody = recent[-s.unknown_after :]
        if len(nobody) == s.unknown_after and self.nobody(nobody):
            return Decision(track, None, Verdict.UNKNOWN, last.reason, None, last.distance, last.margin)
        if agreeing and not rivals and len(window) < s.within:
            lead = agreeing[-1]
            return Decision(
                track,
                lead.name,
                Verdict.IDENTIFYING,
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
        return Decision(track, None, Verdict.UNSURE, why, None, last.distance, last.margin)

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

    def _for_person(self, track: int, agreeing: list[Match], alive: LivenessResult | None, standing: StandingOf) -> Decision:
        s = self.settings
        latest = agreeing[-1]
        worst = max(m.distance for m in agreeing if m.distance is not None)  # all of them: they matched
        margins = [m.margin for m in agreeing if m.margin is not None]
        evidence = f"{len(agreeing)} of the last {s.within} identifications agree, distance ≤ {worst:.3f}" + (
            f", margin ≥ {min(margins):.3f}" if margins else ", no other person to compare"
        )
        base = Decision(track, latest.name, Verdict.UNSURE, evidence, latest.person_id, worst, min(margins) if margins else None)
        assert latest.person_id is not None  # they matched: each names a person
        person = standing(latest.person_id)
        if person is None:
            return replace(base, reason=f"{latest.name} was removed from the gallery")
        if not person.allowed:
            return replace(base, verdict=Verdict.DENIED, reason=f"{person.name} is not allowed in; {evidence}", final=True)
        if person.veto:
            return replace(base, verdict=Verdict.DENIED, reason=f"{person.veto}; {evidence}", final=True)
        if person.outside:
            return replace(base, verdict=Verdict.DENIED_SCHEDULE, reason=f"{person.outside}; {evidence}", final=True)
        if person.locked_out:
            return replace(base, verdict=Verdict.LOCKED_OUT, reason=f"{person.locked_out}; {evidence}", final=True)
        if alive is not None:
            base = replace(base, liveness=alive.reason)
            if not alive.passed:
                return replace(base, verdict=Verdict.CHECKING_LIVENESS, reason=f"{alive.reason} ({evidence})")
            evidence += f"; {alive.reason}"
        factor = NEEDS.get(person.access)
        if factor is not None:  # the face is enough to ask, not to open: the decider asks for it
            verdict = Verdict.AWAITING_PIN if factor == "pin" else Verdict.AWAITING_CARD
            return replace(base, verdict=verdict, reason=f"{person.name}: {evidence}")
        return replace(base, verdict=Verdict.GRANTED, reason=f"{person.name}: {evidence}")
