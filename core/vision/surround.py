"""Does the face move inside a still room? A geometric cue against hand-held screens and prints.

A door camera is fixed to the wall: the room it sees stays still, and around a real head the wall
stays still too while the head moves. A phone, tablet or sheet held up by hand moves *inside* that
still room: the face's surroundings on the picture (the video's own background, the bezel, the
fingers) move with the hand while the room beyond the picture does not. The texture model cannot
see a rendered or very sharp screen (core.vision.texture); this cue does not look at texture at all.

Between two frames ``gap`` apart, corners (Shi-Tomasi) are tracked (pyramidal Lucas-Kanade) in two
places:

- **the ring** around the face, ``inner`` to ``outer`` face widths outside its box and above its
  chin (below the chin a real person's own shoulders move with them), in three sides: above,
  left and right. A side moved when ``ring_moved`` of its corners moved at least ``moving_px``,
  on the whole side or on its near part (``inner`` to ``near`` face widths): a phone held close
  and calmly covers only that part, and the still room beyond it outvotes it on the whole side;
- **the room**, beyond ``far`` face widths, cut into an 8 x 6 grid: a cell is still when its
  corners' median motion is at most ``still_px``. Cells rather than corners are counted, so a
  logo or a burnt-in clock (many corners in one place) cannot outvote the rest of the view.

A pair is *judged* only when at least ``min_cells`` cells hold corners and ``room_still`` of them
are still: a moving camera (a film, a selfie) or a picture that fills the view says nothing. A
judged pair *shows a picture* when two sides of its ring moved (a hand raised beside a real face
moves one side; a held picture moves them all). A pair the room's cells fail only by noise is
judged all the same where the room *holds steady*: in a dim room through a grainy camera each
corner shivers by 1-2 px on its own, but a cell's corners do not move together (the length of
their median displacement stays within ``still_px``; a hand or a pan moves them together). In
such a pair a side moved when its corners' median displacement is ``moving_px`` or more (the
same noise would otherwise move every side). Held-out clip monitor seed 19 opened the door
with its room judged in 12 of 85 pairs (its cells' median corner 0.3-2.8 px); held steady, it
shows a picture from its 9th frame (docs/liveness.md, where it was checked on every genuine
video of the shared data and the clip's replays of seeds 0-17). A visit's verdict, once ``min_pairs`` pairs were
judged and at least ``fixed_share`` of all its pairs (the camera is fixed): "picture" when
``picture_share`` of them showed one, else "still". A room seldom still (a dim room whose noisy
corners shiver, a phone covering much of it) still speaks when the pairs it was still in mostly
showed a picture: "picture" when ``min_pairs`` of them did and ``seldom_share`` of them. Else "no
say" (or never, at a plain wall or under a moving camera: its rare still pairs seldom show a
picture - the clip 4 of 34, its second shot 4 of 10, the film 2 of 6). A room often still lets
the door open only once ``min_still`` pairs were judged, and a "picture" read over that many
holds for the visit: how many pairs a visit has when its blink or turn passes depends on the
loop's pace, and the door must not grant on a share's first dip over a dozen pairs.

The thresholds were chosen on generated replays of the clip (phone and monitor, seeds 0-9) and of
one GRID talker (phone, seeds 0-5) against every genuine video of the shared data: 22 of those 26
replays read "picture" (two monitors and a phone filling the view: no say; one phone held calmly:
still) and no genuine video but the one below. The near part and ``picture_share`` 0.35 (was
0.4) came from that calm phone (clip phone seed 8, which opened the door with the check
required): its ring's sides moved in 38 % of 82 judged pairs, under 40 % at some point of the
visit, and the door opened then; with the near part they move in 59 %, and 35 % or more at every
pair from the tenth on - in a one-off script on YuNet's largest face; at the door it depends on
the track: a door that enrolled him from stills stays shut, the bench's door still opens at 34 %
of 41 pairs (docs/liveness.md). Over the same tuning replays, every genuine video of the shared
data at every point of it, and the clip's big shots through simulated door cameras 0-5, no
verdict of a genuine video changed (two of those cameras read "picture" late in the visit before
and after: a room seldom still). bench/attack_bench.py --only replays --first-seed 10
gives the door's figures on seeds the choice never saw. ``seldom_share`` came later, from
held-out clip phone seed 14 (its dim room still in 9 of 37 pairs, each of them showing a
picture: no say, and the door opened), checked against every genuine video above (no prefix of
any of them reads "picture" by it); seeds from 15 on are the clean held-out ones. What it cannot
tell: a picture held perfectly still (on a stand), a picture that fills the camera's view (no
room left to be still), any picture in front of a moving camera; and one genuine recording reads
as a picture: Silent-Face's demo GIF, a phone app's screen recording whose still on-screen frame
and buttons surround a hand-held camera's moving view - a moving picture inside a still frame.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import cv2
import numpy as np

from core.records import Box

GRID = (8, 6)  # the room's cells, across and down


@dataclass
class SurroundSettings:
    gap: int = 5  # frames between the two compared
    inner: float = 0.45  # the ring starts this many face widths outside the box (past hair and ears)...
    outer: float = 1.2  # ...and ends here
    #: a side also moved when its near part (``inner`` to ``near`` face widths) did: a phone held
    #: calmly close to the face covers that part and leaves the rest of the ring to the still room
    near: float = 0.8
    far: float = 2.0  # the room starts this many face widths outside the box
    moving_px: float = 2.0  # a ring corner that moved this far moved
    still_px: float = 1.0  # a room cell whose corners moved at most this far (median) is still
    ring_moved: float = 0.5  # share of the ring that must move for a pair to show a picture
    room_still: float = 0.6  # share of the room's cells that must be still for a pair to be judged
    min_cells: int = 4  # cells with corners the room needs
    min_points: int = 8  # corners the ring needs
    min_pairs: int = 5  # judged pairs before a verdict...
    fixed_share: float = 0.4  # ...and judged in this share of the pairs (a fixed camera), else no say
    picture_share: float = 0.35  # judged pairs showing a picture for the verdict "picture"
    #: a room seldom still (a picture covering much of it, a dim room's noisy corners, a moving
    #: camera): "picture" all the same when this share of the judged pairs, min_pairs at least, showed one
    seldom_share: float = 0.6
    #: judged pairs a still room needs before its surroundings let the door open, and from which a
    #: "picture" holds for the rest of the visit: the pairs a visit has when the blink or turn
    #: passes depend on the loop's pace (a loaded machine describes every 2nd or 3rd frame), and a
    #: share over a dozen pairs, taken at its first dip, is thin evidence
    min_still: int = 20


@dataclass(frozen=True)
class SurroundPair:
    judged: bool  # the room was still (a fixed camera, room left around the picture)
    picture: bool  # ...and the ring moved: the face's surroundings moved inside it
    ring_moved: float  # share of the ring's corners that moved (all sides)
    room_still: float  # share of the room's cells that were still (held steady, in a noisy room)
    #: judged in a noisy room: too few of its cells' corners stayed within ``still_px``, but they
    #: did not move together (each cell's median displacement within it), and neither did the ring's
    steady: bool = False


@dataclass(frozen=True)
class SurroundVerdict:
    state: str  # "picture", "still" or "no say"
    judged: int
    pairs: int
    share: float | None  # judged pairs that showed a picture
    steady: int = 0  # of the judged pairs, those judged in a noisy room held steady

    def words(self) -> str:
        if self.state == "no say":
            return f"surroundings: no say ({self.judged} of {self.pairs} frame pairs with a still room)"
        what = "moves inside a still room (hand-held)" if self.state == "picture" else "still around the face"
        noisy = f" ({self.steady} in a noisy room held steady)" if self.steady else ""
        return f"surroundings: {what}, {self.share:.0%} of {self.judged} pairs{noisy}"


def _box_mask(shape: tuple[int, ...], box: Box, grow: float) -> np.ndarray:
    h, w = shape[:2]
    dx, dy = int(box.width * grow), int(box.height * grow)
    mask = np.zeros((h, w), np.uint8)
    mask[max(0, box.top - dy) : max(0, min(h, box.bottom + dy)), max(0, box.left - dx) : max(0, min(w, box.right + dx))] = 255
    return mask


def _widths_out(points: np.ndarray, box: Box) -> np.ndarray:
    """How far outside ``box`` each point (x, y) lies, in face widths (heights above it)."""
    x, y = points[:, 0], points[:, 1]
    dx = np.maximum(np.maximum(box.left - x, x - box.right), 0) / max(1, box.width)
    return np.maximum(dx, np.maximum(box.top - y, 0) / max(1, box.height))


def _track(before: np.ndarray, after: np.ndarray, mask: np.ndarray, most: int, spacing: int) -> tuple[np.ndarray, np.ndarray]:
    """Corners in ``mask`` of ``before`` found again in ``after``: (positions (n, 2), displacements (n, 2))."""
    found = cv2.goodFeaturesToTrack(before, most, 0.01, spacing, mask=mask)
    if found is None:
        return np.zeros((0, 2), np.float32), np.zeros((0, 2), np.float32)
    found = found.astype(np.float32)
    moved, status, _ = cv2.calcOpticalFlowPyrLK(before, after, found, np.empty_like(found), winSize=(15, 15), maxLevel=3)
    ok = status.ravel() == 1
    return found.reshape(-1, 2)[ok], (moved - found).reshape(-1, 2)[ok]


def _steady(shifts: np.ndarray) -> float:
    """How far a group of corners moved together: the length of their median displacement. Sensor
    noise and JPEG shake each corner its own way and cancel out here; a hand or a pan does not."""
    return float(np.linalg.norm(np.median(shifts, axis=0)))


def measure(before: np.ndarray, box: Box, after: np.ndarray, s: SurroundSettings) -> SurroundPair | None:
    """The face (``box`` in ``before``), its ring and the room from ``before`` to ``after`` (grey);
    None when the ring has too few corners to say anything (a blank wall)."""
    h, w = before.shape[:2]
    ring_mask = cv2.subtract(_box_mask(before.shape, box, s.outer), _box_mask(before.shape, box, s.inner))
    ring_mask[max(0, box.bottom) :] = 0
    where, shifts = _track(before, after, ring_mask, 120, 5)
    if len(shifts) < s.min_points:
        return None
    corners, room = _track(before, after, 255 - _box_mask(before.shape, box, s.far), 300, 6)
    cells: dict[tuple[int, int], list[np.ndarray]] = {}
    for (x, y), d in zip(corners, room, strict=True):
        cells.setdefault((int(x * GRID[0] / w), int(y * GRID[1] / h)), []).append(d)
    held = [np.array(v) for v in cells.values() if len(v) >= 2]
    room_still = float(np.mean([np.median(np.linalg.norm(v, axis=1)) <= s.still_px for v in held])) if held else 0.0
    ring = np.linalg.norm(shifts, axis=1)
    x, y = where[:, 0], where[:, 1]
    sides = (y < box.top, (x < box.left) & (y >= box.top), (x > box.right) & (y >= box.top))  # above, left, right
    near = _widths_out(where, box) < s.near
    parts = [[p for p in (side, side & near) if p.sum() >= 3] for side in sides if side.sum() >= 3]
    judged = len(held) >= s.min_cells and room_still >= s.room_still
    if judged:
        moved = ring >= s.moving_px
        sides_moved = sum(any(float(np.mean(moved[p])) >= s.ring_moved for p in side) for side in parts)
        return SurroundPair(True, sides_moved >= 2, float(np.mean(moved)), room_still)
    # a noisy room (dim, a soft or grainy camera): each corner shivers, but the room holds steady
    # where its cells' corners do not move together; the ring's sides are then asked the same
    steady = float(np.mean([_steady(v) <= s.still_px for v in held])) if held else 0.0
    if len(held) < s.min_cells or steady < s.room_still:
        return SurroundPair(False, False, float(np.mean(ring >= s.moving_px)), room_still)
    sides_moved = sum(any(_steady(shifts[p]) >= s.moving_px for p in side) for side in parts)
    return SurroundPair(True, sides_moved >= 2, float(np.mean(ring >= s.moving_px)), steady, steady=True)


class SurroundMotion:
    """One visit's frames (one tracked face): ``observe()`` each, ``verdict()`` so far."""

    def __init__(self, settings: SurroundSettings | None = None) -> None:
        self.settings = settings or SurroundSettings()
        self._recent: deque[tuple[np.ndarray, Box]] = deque(maxlen=self.settings.gap + 1)
        self.pairs: list[SurroundPair] = []
        self.frames = 0
        self._held: SurroundVerdict | None = None  # a "picture" read on min_still judged pairs or more

    def observe(self, rgb: np.ndarray, box: Box) -> SurroundPair | None:
        self.frames += 1
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        self._recent.append((gray, box))
        if len(self._recent) <= self.settings.gap:
            return None
        pair = measure(*self._recent[0], gray, self.settings)
        if pair is not None:
            self.add(pair)
        return pair

    def add(self, pair: SurroundPair) -> None:
        """One more pair measured; a picture read over ``min_still`` judged pairs or more holds for
        the visit (a hand that calms later dilutes the share: clip phone seed 8 at the bench's door
        read 50 % of 20 pairs, then 34 % of 41, and the door opened at the dip)."""
        self.pairs.append(pair)
        now = self.verdict()
        if self._held is None and now.state == "picture" and now.judged >= self.settings.min_still:
            self._held = now

    @property
    def settled(self) -> bool:
        """Frames enough for a verdict to have formed, had the room been still (a door waits for it)."""
        return self.frames >= self.settings.gap + self.settings.min_pairs

    def lets_in(self) -> bool:
        """Whether the surroundings let the door open (with the check required): not a picture, and
        either a room seldom still (no say: nothing to wait for) or a still room over ``min_still``
        judged pairs. A still room's fewer pairs wait, whatever the loop's pace gave by then."""
        if not self.settled:
            return False
        v = self.verdict()
        if v.state == "picture":
            return False
        often_still = v.judged >= self.settings.fixed_share * max(1, v.pairs)
        return not often_still or v.judged >= self.settings.min_still

    def verdict(self) -> SurroundVerdict:
        if self._held is not None:
            return self._held
        s = self.settings
        judged = [p for p in self.pairs if p.judged]
        shown, steady = sum(p.picture for p in judged), sum(p.steady for p in judged)
        if len(judged) < s.min_pairs:
            return SurroundVerdict("no say", len(judged), len(self.pairs), None)
        share = shown / len(judged)
        if len(judged) < s.fixed_share * len(self.pairs):  # the room was seldom still: only a clear picture speaks
            clear = shown >= s.min_pairs and share >= s.seldom_share
            return SurroundVerdict(
                "picture" if clear else "no say", len(judged), len(self.pairs), share if clear else None, steady
            )
        return SurroundVerdict("picture" if share >= s.picture_share else "still", len(judged), len(self.pairs), share, steady)
