"""Is the face at the door a head, not a picture of one? Three cues from dlib's 68 landmarks over the
frames of one visit, each explained in the log ("blinked", "turned: parallax 0.31", "talked: lips 0.18").

**A head turn, told from a sheet by parallax.** A flat picture - a print, a phone, however it is
tilted, turned or moved - maps from one frame to the next by a single homography, so a
homography fitted to the face outline, brows and eye corners explains every landmark, the nose
included. A turning head does not: its nose stands out of that surface and moves against it.
So the turn cue is the *residual parallax* of the nose tip after the homography, in eye
distances, measured against the frame where the visit's observations start. Landmark noise makes
some parallax on any face, so the parallax must also beat the same face's own noise (the
parallax between consecutive frames, where nothing real moves): a small or blurred face needs
more, and below ``min_face`` px the person is asked to come closer.

A sheet that is bent is not one plane, and its nose line can move against its edges. Paper
only bends along one direction at a time (it is developable), so:

- folded down the nose line it is two planes meeting at the nose: the tip lies on both, so it
  has no parallax against the plane of either half (a head's tip stands out of both);
- curved into a cylinder it bends the face's symmetric points alike, and the middle comes out
  as a ridge with the nose sunk into it (convex), or a valley with the nose standing out
  (concave); a head is a ridge *and* a nose standing out of it.

So a frame counts for a turn only when the tip stands out of the half-face planes in the same
direction as the face's middle stands out of its sides (``bump``, in eye distances, above
``bump`` and the face's own noise), and a turn needs ``turn_frames`` such frames in the window.

That alone is not enough: dlib's 68-point model places the nose tip of a sheet folded down the
nose line and turned far where a turning head's would be (its bump as dlib sees it reaches 0.15
eye distances; with the sheet's true landmarks it is 0). So a turn frame must also show two
things of a head that the model places from the picture's strong edges, not from the nose:

- **the outline slides** (``outline``): on a head the face's outline at eye level (points 0-1,
  15-16) is the silhouette, which stays put while the cheeks turn past it: the cheek beyond the
  far eye narrows against that eye's width and the near one widens. On a sheet each half is
  printed on one plane, so the outline-to-eye-corner distance over the eye's width keeps its
  ratio. The cue: the log of that ratio, changed from the reference pose, on both sides in
  opposite directions (the smaller of the two changes);
- **the midline bends** (``midline``): a fold's crease is a straight line in space, so the
  landmarks printed down it (nasion, bridge, lips, chin: 27, 28, 29, 51, 62, 66, 57, 8; not
  the nose tip, which the model guesses) stay in a straight line in every view; a head's
  bridge and lips stand out of the nasion-chin line and bend it as it turns. The cue: their RMS
  distance from their best line (eye distances), changed from the reference pose.

Measured on the landmarks of YuNet boxes, the check alone fed every frame (bench/fold_bench.py):
Lin-Manuel's 182 genuine visits (his two shots and his second shot alone, as recorded and
through simulated cameras 0-89) reach, on their tenth-best turn frame, outline 0.83-1.14 and
midline 0.034-0.062; of 360 folded and curved sheets (seeds 0-179, 120 frames), the 29 that pass
parallax and bump alone reach outline 0.00-1.24 and midline 0.001-0.059. Asking outline 0.70 and
midline 0.027 (FOLD_CUES, chosen on seeds 0-119 and cameras 0-59) every genuine visit still
passes, and 1 of the 360 sheets (seed 127: a 32° ridge fold of a clip frame of Lin-Manuel, turned
33°, outline 0.80, midline 0.045) against 29 without; still, print and screen: 0 of 60 either
way. The cost: his turn passes later (the recorded clip at frame 158 instead of 115; median
over the visits 160 instead of 116), after the door has stopped naming him in the clip, so the
door's own figures must be measured before the pair becomes the default.

Every threshold was measured (bench/attack_bench.py) on generated attacks (core.tools.attacks)
and on the genuine visits of the test clip.

**A blink**, robust to noise and to a tilted picture: both eyes' aspect ratio (EAR, Soukupova &
Cech 2016), measured on the landmarks mapped back into the reference frame by the same
homography (tilting a print squashes its eyes; mapped back, they are as open as ever), under
``blink_ratio`` of the visit's open-eye EAR for ``blink_frames`` frames in a row, open before
and after. On a small face dlib's eyelids of a shut eye stop near half open (GRID's brbk7n, eyes
fully shut on two frames: 57 % of open), so a steady face's shallow blink counts too: under
``blink_shallow`` of open and ``blink_shallow_noise`` times the eyes' own frame-to-frame jitter
below it. Measured (docs/liveness.md): GRID talkers' blinks 6-12 times their jitter; the
generated pictures of seeds 0-9 (chosen on) at most 7.1 under 70 % of open, seeds 10-29 (held
out) at most 7.7: thin margins both ways.

**The screen and print check** (``texture``, core.vision.texture): the blink and the turn pass a
video of the person replayed on a phone, by design. A third cue looks at texture instead: the
MiniFASNetV2-SE model scores each face of at least 64 px (one at a time, on the scorer's own
thread) and a visit's verdict is the median of its last 5 scores. The model cannot see a
rendered or very sharp screen, so the check carries a geometric cue too (core.vision.surround):
a picture held by hand moves inside the fixed camera's still room, with its surroundings; and,
where the door has learned its empty room (core.vision.room), a screen filling the view hides it.
"advisory" adds the verdicts to the reason (so the access log keeps them) and never refuses;
"required" passes a visit only when the blink, turn or talking *and* the texture say a live face, the
surroundings did not move as a hand-held picture's do, and the room is in view around the face
(or the door has none learned).

**Talking**: a person who says something opens and closes their lips, a non-rigid movement of
the face no print, bent or folded sheet makes. The cue is the inner lips' gap (61-67, 62-66,
63-65) over the nose's length (27 to 33), on the landmarks mapped back by the face's homography
as for the blink: a tilted or bent sheet foreshortens both alike; only on frames whose outline,
brows and eye corners fit that homography within ``lips_fit`` (a sheet folded or turned far has
dlib's inner lips of an open-mouthed photo snap shut for 5-8 frames, its fit then 0.06-0.08
eye distances against 0.015-0.04 otherwise; a GRID talker's frames fit within 0.03, 90th
percentile). It passes when the mouth was
closed (gap under ``lips_closed`` for ``closed_frames`` frames in a row), then open (over
``lips_open`` on ``open_frames`` frames in a row), then closed again, within the window. Runs,
not single frames, because dlib's inner lips jump on a picture: on a photo with an open mouth,
tilted far, they snap shut for a frame or two; on a shut one they spring open as briefly.
And only a mouth seen opening: the frame before the open run part-open (over ``lips_ramp`` of
``lips_open``; a picture's inner lips snap from shut to open in one frame), and the outer lips
(50-58, 51-57, 52-56) parting with the inner ones, by at least ``lips_outer`` of their rise (on
5 of the 6 pictures found talking at 120 frames the outer lips shut as the inner ones opened;
a GRID talker's rise 1.05-1.6 times as far). Measured in docs/liveness.md: it refuses the 6 of
300 generated presentations the runs alone let talk, and the GRID talkers talk as before.
Measured on the landmarks of YuNet boxes, every frame of 60 px or more (docs/liveness.md): the GRID
talkers' open level (the best ``open_frames``-frame run's lowest gap between two closed runs)
0.07-0.36, 7 of 8 over 0.12; the generated still, print, curved, folded and screen attacks of
seeds 0-9 (chosen on) at most 0.11, of seeds 10-19 (held out) at most 0.10; Silent-Face's real
phone 0.05. A head that turns while it talks (Lin-Manuel in the clip, the film's actors) is out
of the fit on most frames: the turn, not the lips, lets it in.

What the blink, turn and talking cannot stop: a replayed video of the person (its frames hold a real
head's parallax, real blinks and real words), and a 3-D mask. The 68-point model also sees a strongly folded sheet as a
turned head a little: see the README's figures for what that costs.

The 68-point predictor holds the GIL (~1 ms a face), and the judgement takes about as long again
(homographies against a few earlier poses); the decider runs them on each face from its arrival
until its verdict, not after.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import cv2
import numpy as np

from core.records import Box
from core.vision.room import RoomSettings, RoomVotes, RoomWatcher
from core.vision.surround import SurroundMotion
from core.vision.texture import MIN_FACE, TextureScorer, TextureVotes, face_crop

if TYPE_CHECKING:
    from core.vision.describe import Describer

# 68-point model indices.
RIGHT_EYE = slice(36, 42)
LEFT_EYE = slice(42, 48)
NOSE_TIP = 30
#: the surface the homography is fitted to: face outline, brows, eye corners (not the nose, not
#: the eyelids or the mouth, which move on their own)
PLANE = [*range(0, 27), 36, 39, 42, 45]
MID = [27, 28, 29, 33]  # the face's middle (nose line)...
SIDES = [0, 1, 2, 14, 15, 16, 17, 26, 36, 45]  # ...against its sides
#: the face outline at eye level, left and right in the image (beyond eye corners 36 and 45)
OUTLINE = ([0, 1], [15, 16])
#: the landmarks down the face's midline a fold's crease would hold: nasion, bridge, lips, chin
#: (not the nose tip, which dlib places on a turned sheet as on a head)
MIDLINE = [27, 28, 29, 51, 62, 66, 57, 8]
RIGID = [*range(0, 36), 36, 39, 42, 45]
#: the inner lips, upper (61-63) over lower (67-65), and the nose line (nasion to base) their gap is measured in
INNER_LIPS = ([61, 62, 63], [67, 66, 65])
#: the outer lips, upper (50-52) over lower (58-56): a real mouth parts them with the inner ones
OUTER_LIPS = ([50, 51, 52], [58, 57, 56])
NOSE_LINE = (27, 33)
#: s between two observations for the second to measure the landmark noise against the first
#: (a camera that drops frames on a busy machine still gives some)
MAX_FRAME_GAP = 0.25
#: faces between two texture scores once a visit has its first verdict
TEXTURE_EVERY = 3


@dataclass
class LivenessSettings:
    blink: bool = True
    head_turn: bool = True
    talk: bool = True
    blink_ratio: float = 0.5  # eyes count as closed under this fraction of the open-eye EAR...
    reopen_ratio: float = 0.85  # ...and as open again above this fraction
    #: ...or under blink_shallow when that is blink_shallow_noise times the eyes' own jitter: on a
    #: small face dlib's eyelids of a shut eye stop near half open, and a steady face's eyes tremble
    #: little (module docstring)
    blink_shallow: float = 0.7
    blink_shallow_noise: float = 9.0
    blink_frames: int = 2  # frames in a row with both eyes closed
    parallax: float = 0.35  # the nose tip's parallax (eye distances) a turn needs
    bump: float = 0.10  # the tip out of the half-face planes (eye distances) a turn needs
    #: the outline sliding against both eyes (log ratio, opposite ways) and the midline bending
    #: (eye distances) a turn needs; 0 = not asked. FOLD_CUES holds the measured pair: it refuses
    #: the folds but passes a turn ~1.4 s later (see the module docstring), so it is not the default
    #: (the door asks for it with DecisionSettings.strict_turn)
    outline: float = 0.0
    midline: float = 0.0
    noise_factor: float = 4.0  # ...and both must be this many times the face's own landmark noise
    turn_frames: int = 10  # frames that must show it
    references: int = 4  # earlier frames each frame is compared with (one every ref_every frames)
    ref_every: int = 10
    #: talking: the inner lips' gap (nose lengths) under lips_closed for closed_frames in a row,
    #: then over lips_open for open_frames in a row, then closed again (module docstring)
    lips_closed: float = 0.04
    lips_open: float = 0.12
    closed_frames: int = 2
    open_frames: int = 3
    #: ...read only on frames whose outline, brows and eye corners fit the face's homography to
    #: the reference within this RMS (eye distances): a sheet folded or turned far has dlib's
    #: inner lips of an open-mouthed photo snap shut for several frames, out of that fit
    lips_fit: float = 0.05
    #: ...and only a mouth seen opening: the frame before the open run over lips_ramp of
    #: lips_open (no one-frame snap), the outer lips parting over lips_outer of the inner
    #: lips' rise between the shut and open frames (dlib's inner lips of a picture snap alone)
    lips_ramp: float = 0.5
    lips_outer: float = 0.5
    min_face: int = 60  # px; smaller faces are not judged
    window: float = 10.0  # seconds of observations kept
    #: the screen and print check (core.vision.texture): "off", "advisory" (said, never refuses) or
    #: "required"; the median of the last texture_frames scores must reach texture_threshold
    texture: str = "off"
    texture_frames: int = 5
    texture_threshold: float = 0.0
    texture_min_face: int = MIN_FACE
    #: with the check required, a door that has not learned its empty room (core.vision.room)
    #: refuses rather than judge without it: a tablet raised before the door saw its room
    room_required: bool = False


#: the outline and midline cues at their measured thresholds (module docstring)
FOLD_CUES = {"outline": 0.70, "midline": 0.027}


@dataclass(frozen=True)
class LivenessResult:
    passed: bool
    reason: str  # what passed, or what is still awaited, in words
    ear: float | None = None
    parallax: float | None = None
    frames: int = 0


@dataclass(frozen=True)
class TurnEvidence:
    """One frame against the reference: the nose tip's parallax, its bump out of the half-face
    planes (signed: positive when a head's), the consecutive-frame noise (eye distances), and
    how far the outline slid against the eyes and the midline bent (see the module docstring)."""

    parallax: float
    bump: float
    noise: float
    outline: float = 0.0
    midline: float = 0.0

    def strength(self, s: LivenessSettings) -> float:
        """How far the weakest cue is over its threshold (1: just there)."""
        return min(
            self.parallax / s.parallax,
            self.bump / s.bump,
            self.outline / s.outline if s.outline > 0 else np.inf,
            self.midline / s.midline if s.midline > 0 else np.inf,
        )


def eye_aspect_ratio(eye: np.ndarray) -> float:
    """(|p2-p6| + |p3-p5|) / (2 |p1-p4|) for the six points of one eye."""
    width = np.linalg.norm(eye[0] - eye[3])
    if width < 1e-6:
        return 0.0
    return float((np.linalg.norm(eye[1] - eye[5]) + np.linalg.norm(eye[2] - eye[4])) / (2 * width))


def eye_distance(points: np.ndarray) -> float:
    return float(np.linalg.norm(points[RIGHT_EYE].mean(axis=0) - points[LEFT_EYE].mean(axis=0)))


def _homography(src: np.ndarray, dst: np.ndarray, index: list[int]) -> np.ndarray | None:
    h, _ = cv2.findHomography(src[index], dst[index], 0)  # least squares over every point
    return h


def _residual(ref: np.ndarray, cur: np.ndarray, index: list[int]) -> np.ndarray | None:
    """Every landmark of ``cur`` minus where the homography fitted on ``index`` puts it, in eye
    distances, along and across the eye line."""
    h = _homography(ref, cur, index)
    if h is None:
        return None
    mapped = cv2.perspectiveTransform(ref[None], h)[0]
    axis = cur[LEFT_EYE].mean(axis=0) - cur[RIGHT_EYE].mean(axis=0)
    scale = float(np.linalg.norm(axis))
    if scale < 1e-6:
        return None
    axis /= scale
    return ((cur - mapped) / scale) @ np.array([axis, [-axis[1], axis[0]]]).T


def halves(points: np.ndarray) -> tuple[list[int], list[int]]:
    """The rigid landmarks left and right of the nose line (27 to 33), a margin of 0.2 eye distances off it."""
    a, b = points[27], points[33]
    normal = np.array([b[1] - a[1], a[0] - b[0]])
    length = float(np.linalg.norm(normal))
    if length < 1e-6:
        return [], []
    side = (points - a) @ (normal / length) / max(eye_distance(points), 1e-6)
    return [i for i in RIGID if side[i] < -0.2], [i for i in RIGID if side[i] > 0.2]


def outline_ratios(points: np.ndarray) -> np.ndarray:
    """log((outline at eye level to the outer eye corner) / the eye's width), along the eye line,
    for the eye left and right in the image."""
    axis = points[LEFT_EYE].mean(axis=0) - points[RIGHT_EYE].mean(axis=0)
    x = points @ (axis / max(float(np.linalg.norm(axis)), 1e-6))
    left = (x[36] - x[OUTLINE[0]].mean()) / max(x[39] - x[36], 1e-6)
    right = (x[OUTLINE[1]].mean() - x[45]) / max(x[45] - x[42], 1e-6)
    return np.log(np.maximum([left, right], 1e-3))


def outline_slide(ref: np.ndarray, cur: np.ndarray) -> float:
    """How far the outline slid against both eyes from ``ref`` to ``cur``, opposite ways on the
    two sides as a turning head's does (0 when the two sides did not move apart)."""
    left, right = outline_ratios(cur) - outline_ratios(ref)
    return float(min(abs(left), abs(right))) if left * right < 0 else 0.0


def midline_bend(points: np.ndarray) -> float:
    """RMS distance of the MIDLINE landmarks from their best-fitting line, in eye distances."""
    q = points[MIDLINE] - points[MIDLINE].mean(axis=0)
    return float(np.linalg.svd(q, compute_uv=False)[1] / np.sqrt(len(MIDLINE)) / max(eye_distance(points), 1e-6))


def turn_evidence(
    ref: np.ndarray, prev: np.ndarray, cur: np.ndarray, sides: tuple[list[int], list[int]], shape: bool = True
) -> TurnEvidence | None:
    """How much a head-like turn frame ``cur`` shows against ``ref`` (see the module docstring);
    without ``shape``, the outline and midline are not measured (0: the check does not ask)."""
    glob = _residual(ref, cur, PLANE)
    left = _residual(ref, cur, sides[0]) if len(sides[0]) >= 6 else None
    right = _residual(ref, cur, sides[1]) if len(sides[1]) >= 6 else None
    jitter = _residual(prev, cur, PLANE)
    if glob is None or left is None or right is None or jitter is None:
        return None
    ridge = glob[MID].mean(axis=0) - glob[SIDES].mean(axis=0)
    tip = (left[NOSE_TIP] + right[NOSE_TIP]) / 2
    norm = float(np.linalg.norm(ridge))
    bump = float(tip @ ridge / norm) if norm > 1e-9 else 0.0
    evidence = TurnEvidence(float(np.linalg.norm(glob[NOSE_TIP])), bump, float(np.linalg.norm(jitter[NOSE_TIP])))
    if shape:
        evidence = replace(evidence, outline=outline_slide(ref, cur), midline=abs(midline_bend(cur) - midline_bend(ref)))
    return evidence


def rectified(ref: np.ndarray, cur: np.ndarray) -> np.ndarray:
    """``cur`` mapped back onto ``ref`` with the face's homography (a tilted picture comes back flat)."""
    h = _homography(cur, ref, PLANE)
    return cur if h is None else cv2.perspectiveTransform(cur[None], h)[0]


def rectified_ears(pts: np.ndarray) -> tuple[float, float]:
    """Both eyes' EAR on rectified landmarks: a tilted picture's squashed eyes come back open;
    closing eyelids stay closed."""
    return eye_aspect_ratio(pts[RIGHT_EYE]), eye_aspect_ratio(pts[LEFT_EYE])


def lip_gap(points: np.ndarray, lips: tuple[list[int], list[int]] = INNER_LIPS) -> float:
    """The inner lips' mean gap over the nose's length (27 to 33): 0 for a shut mouth, ~0.2-0.4
    for a word's open vowel (``lips`` = OUTER_LIPS: the outer lips' height, likewise)."""
    upper, lower = lips
    gap = float(np.linalg.norm(points[upper] - points[lower], axis=1).mean())
    return gap / max(float(np.linalg.norm(points[NOSE_LINE[1]] - points[NOSE_LINE[0]])), 1e-6)


class LivenessCheck:
    """Observations of one visit (one tracked face); feed it every frame while it matters. With a
    ``scorer`` (core.vision.texture.TextureScorer) and ``settings.texture`` not "off", each face
    of at least ``texture_min_face`` px is also scored for screen and print texture, off this thread."""

    def __init__(
        self,
        describer: Describer,
        settings: LivenessSettings | None = None,
        scorer: TextureScorer | None = None,
        room: RoomWatcher | None = None,
    ) -> None:
        self.describer = describer
        self.settings = settings or LivenessSettings()
        self._refs: deque[tuple[np.ndarray, float, tuple[list[int], list[int]]]] = deque()  # (points, time, halves)
        self._count = 0
        self._prev: tuple[np.ndarray, float] | None = None
        # (time, turn, ear R, ear L, (inner lip gap, outer lip height): None on a frame out of the face's fit)
        self._seen: deque[tuple[float, TurnEvidence | None, float, float, tuple[float, float] | None]] = deque()
        self._moved: LivenessResult | None = None  # the blink or turn, once shown
        self._passed: LivenessResult | None = None  # the whole check, once passed
        texture_on = scorer is not None and self.settings.texture != "off"
        self.scorer = scorer if texture_on else None
        self.texture = TextureVotes(self.settings.texture_frames, self.settings.texture_threshold) if texture_on else None
        self.surround = SurroundMotion() if texture_on else None
        self.room = room if texture_on else None  # the door camera's room (core.vision.room), learned elsewhere
        self.room_votes = RoomVotes(room.settings) if texture_on and room is not None else None
        self._texture_seen = 0

    def observe(self, rgb: np.ndarray, box: Box, timestamp: float) -> LivenessResult:
        """Add this frame's landmarks (and texture); whether the face has shown itself alive so far."""
        if self._passed is not None:
            return self._passed
        moved = self._moved or self._motion(rgb, box, timestamp)
        if self.surround is not None:
            self.surround.observe(rgb, box)
        if self.room is not None and self.room_votes is not None:
            self.room_votes.add(self.room, rgb, box)
        if self.texture is not None and self.scorer is not None and box.width >= self.settings.texture_min_face:
            self.texture.collect()
            self._texture_seen += 1
            # one crop a visit at a time (never a queue behind the frames); once there is a verdict,
            # every TEXTURE_EVERY-th face (a stranger who stays is not scored 30 times a second)
            settled = len(self.texture.scores) >= self.texture.frames and self._texture_seen % TEXTURE_EVERY
            if not self.texture.busy and not settled:
                self.texture.wait_on(self.scorer.submit(face_crop(rgb, box)))
        result = self._with_texture(moved)
        if result.passed:
            self._passed = result
        return result

    def _motion(self, rgb: np.ndarray, box: Box, timestamp: float) -> LivenessResult:
        s = self.settings
        if not (s.blink or s.head_turn or s.talk):
            self._moved = LivenessResult(True, "liveness cues all switched off")
            return self._moved
        if box.width < s.min_face:
            return LivenessResult(False, f"come closer (face {box.width} px, need {s.min_face})", frames=len(self._seen))
        shape = self.describer.landmarks(rgb, box, 68)
        return self.observe_points(np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64), timestamp)

    def _with_texture(self, moved: LivenessResult) -> LivenessResult:
        """The blink or turn with the screen and print check: "required" needs a live face's
        texture as well, and surroundings that did not move inside a still room (in a still room,
        over SurroundSettings.min_still judged pairs, so the pace of the loop does not decide); "advisory" only says what they saw (in the reason the
        access log keeps)."""
        if self.texture is None or self.surround is None:
            return moved
        verdict, around = self.texture.verdict(), self.surround.verdict()
        said = f"{moved.reason}; {verdict.words()}; {around.words()}"
        room = self.room_votes.verdict() if self.room_votes is not None else None
        if room is not None and room.state == "no say":  # no room learned at this door: nothing to say
            room = None
        roomless = room is None and self.settings.room_required
        if self.settings.texture == "advisory":
            return replace(moved, reason=f"{said}{f'; {room.words()}' if room else ''} (advisory)")
        # all said, so the log shows which cue is still missing or refused
        lets_in = self.surround.lets_in()
        if not lets_in and around.state != "picture":
            said += f" (waiting for {self.surround.settings.min_still} judged pairs)"
        if room is not None:
            said += f"; {room.words()}"
        elif roomless:
            learn = self.room_votes.settings if self.room_votes is not None else RoomSettings()
            said += f"; room: none learned yet (the door must see its view empty and still for {learn.samples * learn.every:g} s first)"
        room_ok = not roomless and (room is None or room.state == "in view")
        screen_ok = verdict.state == "real" and lets_in and room_ok
        return replace(moved, passed=moved.passed and screen_ok, reason=said)

    def observe_points(self, points: np.ndarray, timestamp: float) -> LivenessResult:
        """The blink or turn alone, from the 68 landmarks (x, y) already found."""
        if self._moved is not None:
            return self._moved
        s = self.settings
        while self._refs and timestamp - self._refs[0][1] > s.window:
            self._refs.popleft()
        while self._seen and timestamp - self._seen[0][0] > s.window:
            self._seen.popleft()
        if not self._refs:
            self._count = 0
        if self._count % s.ref_every == 0:  # a new reference pose now and then: the turn may start late
            self._refs.append((points, timestamp, halves(points)))
            if len(self._refs) > s.references:
                self._refs.popleft()
        self._count += 1
        prev, self._prev = self._prev, (points, timestamp)
        turn = None
        if prev is not None and timestamp - prev[1] <= MAX_FRAME_GAP:
            shape = s.outline > 0 or s.midline > 0  # 0.1 ms a reference, only when asked
            shown = [turn_evidence(ref, prev[0], points, sides, shape) for ref, _, sides in self._refs]
            turn = max((t for t in shown if t is not None), default=None, key=lambda t: t.strength(s))
        ref = self._refs[0][0]
        flat = rectified(ref, points)
        misfit = float(np.sqrt(((flat[PLANE] - ref[PLANE]) ** 2).sum(axis=1).mean())) / max(eye_distance(ref), 1e-6)
        lips = (lip_gap(flat), lip_gap(flat, OUTER_LIPS)) if misfit <= s.lips_fit else None
        self._seen.append((timestamp, turn, *rectified_ears(flat), lips))
        result = self._judge()
        if result.passed:
            self._moved = result
        return result

    def _judge(self) -> LivenessResult:
        s = self.settings
        n = len(self._seen)
        ears = np.array([(r, left) for _, _, r, left, _ in self._seen])
        if s.blink and n >= s.blink_frames + 2:
            blinked = _blink(
                ears, s.blink_ratio, s.reopen_ratio, s.blink_frames, s.noise_factor, (s.blink_shallow, s.blink_shallow_noise)
            )
            if blinked is not None:
                depth, jitter = blinked
                said = (
                    f"blinked (eyes {depth:.0%} of open, {(1 - depth) / jitter:.0f}x their jitter)"
                    if jitter > 0
                    else f"blinked (eyes {depth:.0%} of open)"
                )
                return LivenessResult(True, said, float(ears[-1].mean()), None, n)
        turns = [t for _, t, _, _, _ in self._seen if t is not None]
        best = 0.0
        if s.head_turn and turns:
            noise = float(np.median([t.noise for t in turns]))
            need_parallax = max(s.parallax, s.noise_factor * noise)
            need_bump = max(s.bump, s.noise_factor * noise / 2)
            shown = sorted(
                (
                    t
                    for t in turns
                    if t.parallax >= need_parallax and t.bump >= need_bump and t.outline >= s.outline and t.midline >= s.midline
                ),
                key=lambda t: t.parallax,
            )
            best = max(t.parallax for t in turns)
            if len(shown) >= s.turn_frames:
                t = shown[-s.turn_frames]
                shape = f", outline slid {t.outline:.2f}, midline bent {t.midline:.3f}" if s.outline or s.midline else ""
                return LivenessResult(
                    True, f"turned: parallax {t.parallax:.2f}{shape} (noise {noise:.2f})", float(ears[-1].mean()), t.parallax, n
                )
        if s.talk:
            lips = np.array([gap for *_, gap in self._seen if gap is not None]).reshape(-1, 2)
            talked = _talk(lips, s.lips_closed, s.lips_open, s.closed_frames, s.open_frames, s.lips_ramp, s.lips_outer)
            if talked is not None:
                return LivenessResult(True, f"talked: lips {talked:.2f}", float(ears[-1].mean()), None, n)
        asks = [w for w, on in (("blink", s.blink), ("turn your head", s.head_turn), ("say something", s.talk)) if on]
        ask = f"{', '.join(asks[:-1])} or {asks[-1]}" if len(asks) > 1 else "".join(asks)
        return LivenessResult(False, f"please {ask}", float(ears[-1].mean()), best, n)


def _blink(
    ears: np.ndarray,
    closed: float,
    reopen: float,
    frames: int,
    noise_factor: float = 4.0,
    shallow: tuple[float, float] | None = None,
) -> tuple[float, float] | None:
    """How far the eyes closed and their jitter, if both closed for ``frames`` frames in a row with
    open eyes before and after; None otherwise. ``ears``: (n, 2) EAR of the right and left eye.
    Closed means under ``closed`` of open *and* further from open than ``noise_factor`` times the
    eyes' own frame-to-frame jitter (landmarks on a small or blurred face tremble) - or, with
    ``shallow`` = (ratio, factor), under that ratio and further from open than that factor times
    the jitter (a steady face's shallow blink, as dlib sees a small face's shut eyes)."""
    open_ear = np.percentile(ears, 80, axis=0)
    if np.any(open_ear < 1e-6):
        return None
    rel = ears / open_ear
    jitter = float(np.median(np.abs(np.diff(rel, axis=0)))) if len(rel) > 2 else 0.0
    shut = np.all(rel < min(closed, 1 - noise_factor * jitter), axis=1)
    if shallow is not None:
        shut |= np.all(rel < min(shallow[0], 1 - shallow[1] * jitter), axis=1)
    wide = np.all(rel >= reopen, axis=1)
    run = 0
    for i, is_shut in enumerate(shut):
        run = run + 1 if is_shut else 0
        if run >= frames:
            start = i - run + 1
            if wide[:start].any() and wide[i + 1 :].any():
                return float(rel[start : i + 1].max()), jitter
    return None


def _talk(
    lips: np.ndarray, closed: float, opened: float, closed_frames: int, open_frames: int, ramp: float, outer: float
) -> float | None:
    """How far the lips opened, if they were shut (the inner gap, ``lips[:, 0]``, under ``closed``
    for ``closed_frames`` frames in a row), then open (over ``opened`` on ``open_frames`` frames
    in a row), then shut again; None otherwise. The level is the open run's lowest gap: the best
    such run between the first shut run and the last (a frame or two of dlib's jumping lips is no
    run). An open run counts only if the frame before it is over ``ramp`` times ``opened`` (a mouth
    opens over frames; dlib's inner lips of a picture snap open in one) and the outer lips'
    height, ``lips[:, 1]``, rose over the run (median, against the shut frames') by at least
    ``outer`` times the inner gap's rise (on a picture the inner lips snap alone, the outer
    ones often shutting as they open)."""
    gaps, heights = lips[:, 0], lips[:, 1]
    shut = gaps <= closed
    ends = [i for i in range(closed_frames - 1, len(gaps)) if shut[i - closed_frames + 1 : i + 1].all()]
    if not ends:
        return None
    first_end, last_start = ends[0], ends[-1] - closed_frames + 1
    span = np.arange(first_end + 1 - closed_frames, last_start + closed_frames)
    shut_gap, shut_height = float(np.median(gaps[span[shut[span]]])), float(np.median(heights[span[shut[span]]]))
    best = None
    start = first_end + 1
    while start < last_start:
        if gaps[start] < opened:
            start += 1
            continue
        end = start
        while end < last_start and gaps[end] >= opened:
            end += 1
        run = slice(start, end)
        rise = float(np.median(gaps[run])) - shut_gap
        seen_opening = gaps[start - 1] >= ramp * opened and float(np.median(heights[run])) - shut_height >= outer * rise
        if end - start >= open_frames and seen_opening:
            level = float(np.lib.stride_tricks.sliding_window_view(gaps[run], open_frames).min(axis=1).max())
            best = max(best or 0.0, level)
        start = end
    return best
