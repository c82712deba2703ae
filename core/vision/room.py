"""Is the door's own room still in view around a face? A cue against a screen that fills the view.

A door camera is fixed to the wall and sees its room all day, mostly with nobody in it. A tablet
held so close that its screen fills the camera's view (attacks kind ``fill``) leaves no bezel, no
hand and no room for the other cues to see (core.vision.surround says "no say" under a view that
moves as one), and a rendered or sharp screen fools the texture model: the only thing left that
gives it away is that the room is gone. A real person, however close, hides only the part of the
view behind their head and body; the rest of the room is still there.

``RoomWatcher`` learns the room from frames with no face in them (every frame is offered,
``watch``): the view as 16 x 9 cells of 8 x 8 grey texels, each cell the median of the last
``samples`` face-free snapshots taken ``every`` seconds apart, known once those snapshots agree
(a view that keeps changing, a moving camera or a busy hall, is never known: "no say"). A
face-free view unlike the known room is not learned at once: a tablet raised with nothing on it
must not become the room. Only when such a view has stayed still for ``relearn_seconds`` (the
camera was moved, the furniture changed) does it replace the room, and only if it has at least
``relearn_texture`` of the room's cells with structure: a blank screen or a cover held up has
next to none and is never learned (a lit blank tablet: 0 of the film street's 144; the clip's
stage, another room: 105-126). After ``alert_seconds`` of a changed view the door logs "View
changed" (core.door.decide), and again when it becomes the room or is refused as plain, so a
camera covered or moved is on the record (and in the events) before any face comes.

``seen(rgb, box)``: the share of the known room's cells beyond the person at ``box`` (their head:
a third of a face width either side of the face, from half a face height above it; their body: a
face width either side, from the chin down) that still show it: the same brightness within 30 % once the camera's exposure is divided out
(the median ratio over those cells, since an exposure follows a bright screen), and where the room
has texture the same structure (correlation 0.5 or more), where it has none, still none. None
when fewer than ``min_cells`` such cells are known (a person filling the view; no room yet).
``RoomVotes`` keeps a visit's shares: "covered" when the median of at least ``min_frames`` is
under ``covered_share``, "in view" when it is at least that, else "no say".

Measured (docs/liveness.md; bench/attack_bench.py --only room and --room-first): phones,
monitors and stands held in front of a room, 0.80-0.97 of it in view (median per replay); the
clip and GRID talkers on a tablet filling the view 0.01-0.04; genuine fixed-camera videos
0.98-1.00 (their room learned beyond their first frames' faces). At the door, 75 frames of the
empty room first: clip fill 0 of 10 unlocked, GRID fill 0 of 10, each "the view is covered"
(with 1 frame of it, too few to learn it: 8 and 2 of 10); the GRID talkers in front of their wall seen empty, 8 of 8 opened.
A recording with no face-free frame (the clip, GRID) never has a room: the cue has no say there,
and its genuine visits are judged as before.

``under(rgb, box)``: a real head has a body under it, which hides the room where the chest would
be (``under_cells``); a phone or monitor on a stand or a table, whose played face moves while the
display stays put, has the room beneath it. The share of the known room's textured cells there
that still show it, strictly (structure at correlation 0.85, brightness within 15 % of the
exposure the rest of the room gives: a shirt's folds passing for the room's own structure at
the looser 0.5 was seen on a composite talker). ``RoomVotes`` reads "no body" when the median of
at least ``min_frames`` such frames is ``bodiless_share`` or more; where the body's place cannot
be judged (a face low in the view, a plain wall) it has no say. It cannot tell a display that
covers the view down to its bottom edge (the played chest is where the body would be), nor the
attacker's own body behind a hand-held phone: it is aimed at displays left on a stand. Measured
(docs/liveness.md; bench/attack_bench.py --room-first 75 and --only talkers): "no body" on 6 of 10
clip stands and 5 of 6 recognised GRID stands (seeds 0-9), none of 30 composite talkers standing
in front of the rooms that the door opens without the check.

``beside(rgb, box)``: a real head leaves the room in view beside it, at its height: hair ends
within half a face width of the face, the shoulders are lower. A display or a sheet held up, or
left on a stand, frames the played face with its own picture and bezel, which stand where the
room should show, on at least one side (the held-out clip monitors and the phone on a stand that
opened the door with every other cue passing: the played stage reached 1.1-1.7 face widths
beside the face). On a finer grid than the cells (4 x 4 texel blocks, 20 px at 640x360, so a
90 px face's band holds a few), per side, the known room's textured blocks 0.5-1.2 face widths
out, from just above the face to a quarter above the chin; a block still shows the room at
correlation 0.5 and brightness within 30 % (the cue's own ``matching`` terms); the worse side
counts, and a visit whose median over ``min_frames`` or more is under ``framed_share`` reads
"framed". A side with fewer than ``min_beside`` textured blocks has no say (a plain wall, the
view's edge), and blocks another face of the frame may cover are left out (a companion's head
is not a screen). A display no wider than the played head's close surroundings (GRID's tight
shot on a phone on a stand: its played wall 0.4-0.8 face widths out) leaves the wider band half
in view on both sides; it hides the band's near part (to ``beside_close``) on *both* sides,
where a real head turned, or a hand raised, hides it on one side at most: so the better side's
near part counts too ("framed" under ``framed_share`` as well, the reason saying "on both sides,
close to it"). Measured (docs/liveness.md): tuning replays of the clip (seeds 0-9, phone,
monitor, stand) 0.00-0.33 median over the band; GRID's 0.00-0.25 close by on the better side
(two at 0.46 and 0.50); the 8 GRID talkers cut out of their wall and standing in front of 6
rooms 1.00 on all 48 visits, both figures. At the door, fresh replays: seeds 50-59, 1 of 60
opened (lbax4n on a stand, seed 51, shut since by the close figure); seeds 70-99, after it, none of 180.

What it cannot tell: a tablet that showed a still picture of a room, filling the view while
nothing was in it for ``relearn_seconds`` before the face appeared (it became the room; the log
says so, twice), and a replay recorded at this very door from the camera's place.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import cv2
import numpy as np

from core.records import Box

CELLS = (16, 9)  # the view's cells, across and down
TEXELS = 8  # grey texels a cell side
TEXTURED = 24  # a cell's spread over its 64 texels above which it has structure (about 3 grey levels a texel)
BLOCK = 4  # texels a block side: the finer grid ``beside`` judges on (a cell is 2 x 2 blocks)
BLOCK_TEXTURED = 16  # a block's spread over its 16 texels above which it has structure (4 grey levels a texel)


@dataclass
class RoomSettings:
    """How the room is learned and judged; the defaults are docs/liveness.md's."""

    every: float = 0.2  # s between two face-free snapshots
    samples: int = 10  # snapshots a room is the median of (2 s of an empty view)
    agree: float = 0.8  # share of cells each snapshot must share with their median for the room to be known
    relearn_seconds: float = 20.0  # a face-free view unlike the room for this long becomes the room...
    relearn_texture: float = 0.5  # ...if it has this share of the room's textured cells: a blank screen has none
    alert_seconds: float = 5.0  # a face-free view unlike the room for this long is said (watch's answer)
    min_cells: int = 8  # known cells beyond the person for a frame to be judged
    covered_share: float = 0.5  # a visit's median share of the room in view under this: covered
    min_frames: int = 5  # judged frames before a visit's verdict
    min_under: int = 2  # textured room cells where the body would be, for a frame's "under" to count
    under_alike: float = 0.85  # ...each showing the room: its structure at this correlation or more...
    under_within: float = 1.15  # ...and its brightness within this factor (the exposure from the rest of the room)
    bodiless_share: float = 0.5  # a visit's median share of them still showing the room at least this: no body
    beside_near: float = 0.5  # face widths out from the face's side where the room beside the head starts...
    beside_far: float = 1.2  # ...and ends (a head with its hair is narrower; a display framing the face is wider)
    beside_close: float = 0.8  # ...and where its near part ends (a display no wider than the played head's surroundings)
    min_beside: int = 3  # textured room blocks a side needs to be judged
    framed_share: float = 0.5  # a visit's median share of the room beside the head (its worse side) under this: framed


def cells_of(rgb: np.ndarray) -> np.ndarray:
    """The view as CELLS cells of TEXELS x TEXELS grey texels (grey levels): (rows, cols, 64)."""
    (cw, ch), t = CELLS, TEXELS
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    small = cv2.resize(grey, (cw * t, ch * t), interpolation=cv2.INTER_AREA).astype(np.float32)
    return small.reshape(ch, t, cw, t).transpose(0, 2, 1, 3).reshape(ch, cw, t * t)


def exposure(room: np.ndarray, now: np.ndarray, over: np.ndarray) -> float:
    """The camera's exposure now against the room's: the median brightness ratio over the cells
    ``over`` (an exposure follows whatever is bright in the view, a screen included)."""
    return float(np.median(((now.mean(-1) + 1) / (room.mean(-1) + 1))[over]))


def shows(
    room: np.ndarray, now: np.ndarray, gain: float, alike: float = 0.5, within: float = 1.3, structure: float = TEXTURED
) -> np.ndarray:
    """Per patch (a cell, or a block of ``blocks_of``: the last axis is its texels), whether ``now``
    still shows ``room``: its brightness within ``within`` times the room's once the exposure
    ``gain`` is divided out, and where the room has texture (a spread over ``structure``) the same
    structure (correlation ``alike`` or more), where it has none, still none."""
    ratio = (now.mean(-1) + 1) / (room.mean(-1) + 1)
    zr, zn = room - room.mean(-1, keepdims=True), now - now.mean(-1, keepdims=True)
    sr, sn = np.linalg.norm(zr, axis=-1), np.linalg.norm(zn, axis=-1)
    bright = np.abs(np.log(ratio / gain)) < np.log(within)
    same = (zr * zn).sum(-1) / (sr * sn + 1e-6) >= alike
    return bright & np.where(sr > structure, same, sn <= 1.5 * structure)


def matching(
    room: np.ndarray,
    now: np.ndarray,
    where: np.ndarray,
    gain_over: np.ndarray | None = None,
    alike: float = 0.5,
    within: float = 1.3,
) -> np.ndarray:
    """``shows`` for the cells of ``where`` (a boolean mask), the exposure read over ``gain_over``
    (by default ``where``)."""
    gain = exposure(room, now, where if gain_over is None else gain_over)
    return shows(room, now, gain, alike, within)[where]


def textured(room: np.ndarray, structure: float = TEXTURED) -> np.ndarray:
    """The patches of ``room`` (cells, or blocks with BLOCK_TEXTURED) with structure of their own
    (as ``shows`` tells them): a plain wall is not, and a plain shirt in front of it would pass for it."""
    return np.linalg.norm(room - room.mean(-1, keepdims=True), axis=-1) > structure


def under_cells(shape: tuple[int, ...], box: Box) -> np.ndarray:
    """The cells where the chest of a person whose face is ``box`` would be: within half a face
    width of the face's middle, from a face height under the chin down to the bottom of the view."""
    (h, w), (cw, ch) = shape[:2], CELLS
    xs, ys = (np.arange(cw) + 0.5) * w / cw, (np.arange(ch) + 0.5) * h / ch
    middle = (box.left + box.right) / 2
    return (ys > box.bottom + box.height)[:, None] & (np.abs(xs - middle) <= box.width / 2)[None, :]


def person_cells(shape: tuple[int, ...], box: Box, grid: tuple[int, int] = CELLS) -> np.ndarray:
    """The cells (of ``grid``, across and down) a person whose face is ``box`` may cover: their head (a third of a face width
    either side of the face, from half a face height above it to just under the chin) and their
    body (a face width either side, from the chin down to the bottom of the view)."""
    (h, w), (cw, ch) = shape[:2], grid
    xs, ys = (np.arange(cw) + 0.5) * w / cw, (np.arange(ch) + 0.5) * h / ch
    half_w, half_h = w / cw / 2, h / ch / 2

    def across(side: float) -> np.ndarray:
        return (xs + half_w > box.left - side * box.width) & (xs - half_w < box.right + side * box.width)

    head_rows = (ys + half_h > box.top - 0.5 * box.height) & (ys - half_h < box.bottom + 0.1 * box.height)
    body_rows = ys + half_h > box.bottom + 0.1 * box.height
    return (head_rows[:, None] & across(1 / 3)[None, :]) | (body_rows[:, None] & across(1.0)[None, :])


def blocks_of(cells: np.ndarray) -> np.ndarray:
    """``cells_of``'s view regrouped into BLOCK x BLOCK texel blocks: (rows, cols, BLOCK**2)."""
    rows, cols = cells.shape[0] * TEXELS // BLOCK, cells.shape[1] * TEXELS // BLOCK
    texels = cells.reshape(cells.shape[0], cells.shape[1], TEXELS, TEXELS).transpose(0, 2, 1, 3)
    return texels.reshape(rows, BLOCK, cols, BLOCK).transpose(0, 2, 1, 3).reshape(rows, cols, BLOCK * BLOCK)


def beside_blocks(shape: tuple[int, ...], box: Box, side: int, near: float, far: float) -> np.ndarray:
    """The blocks beside the head of a person whose face is ``box``, on ``side`` (-1 left, 1
    right): ``near`` to ``far`` face widths out from the face's side, at the height of the head
    (from a tenth of a face height above the face to a quarter above the chin: not the shoulders)."""
    (h, w), per = shape[:2], TEXELS // BLOCK
    cols, rows = CELLS[0] * per, CELLS[1] * per
    xs, ys = (np.arange(cols) + 0.5) * w / cols, (np.arange(rows) + 0.5) * h / rows
    out = box.left - xs if side < 0 else xs - box.right
    across = (out >= near * box.width) & (out <= far * box.width)
    down = (ys >= box.top - 0.1 * box.height) & (ys <= box.bottom - 0.25 * box.height)
    return down[:, None] & across[None, :]


class RoomWatcher:
    """The door camera's room, learned from its face-free frames (one per camera; thread-safe
    enough for one frame thread, which is the only caller)."""

    def __init__(self, settings: RoomSettings | None = None) -> None:
        self.settings = settings or RoomSettings()
        self.room: np.ndarray | None = None  # (rows, cols, 64), once known
        self._snaps: deque[np.ndarray] = deque(maxlen=self.settings.samples)
        self._last = -np.inf
        self._unlike_since: float | None = None  # when face-free views began to differ from the room
        self._alerted = False  # the present change was said
        self._plain_said = False  # the present change was said to be too plain to learn
        self._unlike: deque[np.ndarray] = deque(maxlen=self.settings.samples)  # the last snapshots unlike the room
        self._shape: tuple[int, ...] | None = None  # the frames' size the room was learned at
        self.faces: list[Box] = []  # every face of the latest frame watched: nobody else's head is "the room hidden"

    def watch(self, rgb: np.ndarray, faces: list[Box], timestamp: float) -> str | None:
        """Every frame of the camera, with every face in it (found or tracked): learn from the
        face-free ones, ``every`` seconds apart. Returns what the door should log, once per
        change: the empty view has not been the room for ``alert_seconds`` (covered or moved),
        and when that view became the room (or the picture's size changed: another camera)."""
        if rgb.shape[:2] != self._shape:  # another camera or mode: this room is not its room
            known, self._shape = self.room is not None, rgb.shape[:2]
            self.room, self._unlike_since, self._alerted, self._plain_said = None, None, False, False
            self._snaps.clear()
            self._unlike.clear()
            if known:
                return "the camera's picture changed size: its room is learned again"
        self.faces = list(faces)
        if faces:
            return None
        if timestamp - self._last < self.settings.every and timestamp >= self._last:
            return None
        self._last = timestamp
        now = cells_of(rgb)
        if self.room is not None:
            shown = float(matching(self.room, now, np.ones(now.shape[:2], bool)).mean())
            if shown >= self.settings.agree:
                self._unlike_since, self._alerted, self._plain_said = None, False, False
                self._unlike.clear()
            else:
                return self._changed(now, shown, timestamp)
        self._snaps.append(now)
        still = self._still(self._snaps)
        self.room = self.room if still is None else still  # a passing change does not unlearn it
        return None

    def _still(self, snaps: deque[np.ndarray]) -> np.ndarray | None:
        """The median of ``snaps`` if there are ``samples`` of them and each agrees with it (a
        still view), else None."""
        if len(snaps) < self.settings.samples:
            return None
        median = np.median(np.stack(snaps), axis=0)
        everywhere = np.ones(median.shape[:2], bool)
        return median if all(matching(median, s, everywhere).mean() >= self.settings.agree for s in snaps) else None

    def _changed(self, now: np.ndarray, shown: float, timestamp: float) -> str | None:
        """A face-free snapshot unlike the room (``shown``: the share of its cells it still shows):
        said after ``alert_seconds``; after
        ``relearn_seconds`` the changed view becomes the room if it is still and not plain."""
        assert self.room is not None
        self._unlike.append(now)
        self._unlike_since = timestamp if self._unlike_since is None else self._unlike_since
        unlike = timestamp - self._unlike_since
        if unlike < self.settings.relearn_seconds:
            if unlike >= self.settings.alert_seconds and not self._alerted:
                self._alerted = True
                return (
                    f"the camera's view changed with nobody in front of it ({shown:.0%} of its room in view for "
                    f"{unlike:.0f} s): covered or moved? It becomes the room after {self.settings.relearn_seconds:g} s"
                )
            return None
        candidate = self._still(self._unlike)
        if candidate is None:  # the changed view is not still (yet)
            return None
        have, room = int(textured(candidate).sum()), int(textured(self.room).sum())
        if have < self.settings.relearn_texture * room:  # a cover or a blank screen held up: never the room
            if self._plain_said:
                return None
            self._plain_said = True
            return (
                f"the camera's changed view stayed {self.settings.relearn_seconds:g} s but is plain ({have} cells with "
                f"structure, its room {room}): covered? It is not learned as the room (restart the door if the camera "
                "now faces a plain wall)"
            )
        self.room, self._unlike_since, self._alerted = candidate, None, False
        self._snaps.clear()
        self._unlike.clear()
        return f"the camera's changed view stayed {self.settings.relearn_seconds:g} s: it is learned as the room"

    def seen(self, rgb: np.ndarray, box: Box, now: np.ndarray | None = None) -> float | None:
        """The share of the known room beyond the person at ``box`` still in view; None when
        there is no room yet or too little of it beyond them. ``now``: ``cells_of(rgb)`` if the
        caller has it."""
        if self.room is None or rgb.shape[:2] != self._shape:
            return None
        beyond = ~person_cells(rgb.shape, box)
        if beyond.sum() < self.settings.min_cells:
            return None
        return float(matching(self.room, cells_of(rgb) if now is None else now, beyond).mean())

    def under(self, rgb: np.ndarray, box: Box, now: np.ndarray | None = None) -> float | None:
        """The share of the known room's textured cells where the person's chest would be
        (``under_cells``) that still show the room: near 0 under a real head, whose body hides
        them; near 1 under a display on a stand or a table, with the room beneath it. None with
        fewer than ``min_under`` such cells (a face low in the view, a plain wall, no room)."""
        if self.room is None or rgb.shape[:2] != self._shape:
            return None
        s = self.settings
        where, beyond = under_cells(rgb.shape, box) & textured(self.room), ~person_cells(rgb.shape, box)
        if where.sum() < s.min_under or beyond.sum() < s.min_cells:
            return None
        now = cells_of(rgb) if now is None else now
        return float(matching(self.room, now, where, beyond, s.under_alike, s.under_within).mean())

    def beside(self, rgb: np.ndarray, box: Box, now: np.ndarray | None = None) -> Beside | None:
        """``beside_share`` of the face at ``box`` against the known room, leaving out the place of
        every other face of the latest frame watched; None with no room (or another camera's)."""
        if self.room is None or rgb.shape[:2] != self._shape:
            return None
        others = [f for f in self.faces if f.iou(box) < 0.3]
        return beside_share(self.room, cells_of(rgb) if now is None else now, rgb.shape, box, others, self.settings)


@dataclass(frozen=True)
class Beside:
    """The room beside the head in one frame (``beside_share``): what a display framing the face hides."""

    worse: float | None  # the share still showing the room 0.5-1.2 face widths out, on the worse side (None: neither side judged)
    close: float | None  # the share 0.5-0.8 widths out on the better side, when both sides could be judged (else None)


def beside_share(
    room: np.ndarray,
    now: np.ndarray,
    shape: tuple[int, ...],
    box: Box,
    others: list[Box] | tuple[Box, ...] = (),
    settings: RoomSettings | None = None,
    known: np.ndarray | None = None,
) -> Beside | None:
    """The share of ``room``'s textured blocks beside the head (``beside_blocks``, each side alone)
    that ``now`` still shows: near 1 beside a real head, whose hair ends within half a face width;
    low where a display or a sheet frames the played face (its screen, its own background and
    bezel stand where the room should be). Two figures: over the whole band on the worse side (a
    display wider than the head on one side at least), and over the band's near part on the
    better side (a display no wider than the played head's own close surroundings hides that
    part on both sides; a real head turned, or a hand raised, on one side only). The places
    ``others`` (other faces of the frame) may cover are left out: a companion's head is not a
    screen. ``known``: the cells of ``room`` that are known (all by default). None when too
    little room is left beyond the person to read the camera's exposure from."""
    s = settings or RoomSettings()
    known = np.ones(room.shape[:2], bool) if known is None else known
    beyond = known & ~person_cells(shape, box)
    if beyond.sum() < s.min_cells:
        return None
    then = blocks_of(room)
    shown = shows(then, blocks_of(now), exposure(room, now, beyond), structure=BLOCK_TEXTURED)
    per = TEXELS // BLOCK
    usable = textured(then, BLOCK_TEXTURED) & np.repeat(np.repeat(known, per, 0), per, 1)
    grid = then.shape[1::-1]
    for other in others:
        usable &= ~person_cells(shape, other, grid)

    def side_shares(far: float) -> list[float | None]:
        places = (usable & beside_blocks(shape, box, side, s.beside_near, far) for side in (-1, 1))
        return [float(shown[where].mean()) if where.sum() >= s.min_beside else None for where in places]

    whole, near = [v for v in side_shares(s.beside_far) if v is not None], side_shares(s.beside_close)
    return Beside(min(whole) if whole else None, None if None in near else max(v for v in near if v is not None))


@dataclass
class RoomVerdict:
    state: str  # "covered", "no body", "framed", "in view", "waiting" (a known room, too few frames judged) or "no say" (no room)
    share: float | None  # the visit's median share of the room in view
    frames: int  # frames judged
    under: float | None = None  # the visit's median share of the room showing where the body would be
    under_frames: int = 0  # frames with enough of the room there to judge it
    beside: float | None = None  # the visit's median share of the room showing beside the head (its worse side)
    beside_frames: int = 0  # frames with enough of the room there to judge it
    close: float | None = None  # the visit's median share showing close beside the head (its better side)
    close_frames: int = 0  # frames with enough of the room close on both sides to judge it
    framed_close: bool = False  # "framed" for hiding the room close beside the head on both sides (else on one, wider)

    def words(self) -> str:
        if self.state == "no say":
            return "room: no say (none learned)"
        if self.state == "waiting":
            return f"room: waiting ({self.frames} of its frames judged; step back a little to show the room around you)"
        what = "the view is covered: a screen or picture in front of the camera" if self.state == "covered" else "in view"
        said = f"room: {what} ({self.share:.0%} of it beyond the face, median of {self.frames})"
        if self.state == "no body":
            return f"{said}, and no body under the face: the room shows where a chest would be ({self.under:.0%}, median of {self.under_frames}): a screen or picture on a stand"
        if self.state == "framed" and self.framed_close:
            return (
                f"{said}, but hidden beside the head on both sides, close to it: something framing the face stands "
                f"where the room should show ({self.close:.0%} of it there, median of {self.close_frames}): "
                "a screen or picture held up"
            )
        if self.state == "framed":
            return (
                f"{said}, but hidden beside the head: something framing the face stands where the room should show "
                f"({self.beside:.0%} of it there, median of {self.beside_frames}): a screen or picture held up"
            )
        return said


@dataclass
class RoomVotes:
    """One visit's shares of the room in view. With a known room, a visit is judged over
    ``min_frames`` frames at least: a face so close that too little room is left beyond it waits
    (a played face zoomed up must not hide the room it covers)."""

    settings: RoomSettings = field(default_factory=RoomSettings)
    shares: list[float] = field(default_factory=list)
    unders: list[float] = field(default_factory=list)  # RoomWatcher.under, where it could judge
    besides: list[float] = field(default_factory=list)  # RoomWatcher.beside's worse side, where it could judge
    closes: list[float] = field(default_factory=list)  # RoomWatcher.beside's close figure, where both sides could judge
    known: bool = False  # the door knows its room

    def add(self, watcher: RoomWatcher, rgb: np.ndarray, box: Box) -> None:
        self.known = watcher.room is not None  # as of this frame (a new camera forgets it)
        now = cells_of(rgb) if watcher.room is not None else None
        share = watcher.seen(rgb, box, now)
        if share is not None:
            self.shares.append(share)
            under = watcher.under(rgb, box, now)
            if under is not None:
                self.unders.append(under)
            beside = watcher.beside(rgb, box, now)
            if beside is not None and beside.worse is not None:
                self.besides.append(beside.worse)
            if beside is not None and beside.close is not None:
                self.closes.append(beside.close)

    def verdict(self) -> RoomVerdict:
        """ "covered" under ``covered_share``; else "no body" when at least ``min_frames`` frames
        could judge where the body would be and their median shows the room there; else "framed"
        when at least ``min_frames`` frames could judge beside the head and their median hides
        the room there (under ``framed_share``); else "in view". A visit whose body place or the
        room beside its head cannot be judged (a face low in the view, a plain wall) is judged on the rest.
        "Framed" also when the room close beside the head is hidden on both sides (``closes``)."""
        s = self.settings
        if len(self.shares) < s.min_frames:
            return RoomVerdict("waiting" if self.known else "no say", None, len(self.shares))

        def median(values: list[float]) -> float | None:
            return float(np.median(values)) if len(values) >= s.min_frames else None

        share, under, beside, close = (median(v) for v in (self.shares, self.unders, self.besides, self.closes))
        assert share is not None
        framed_close = close is not None and close < s.framed_share
        if share < s.covered_share:
            state = "covered"
        elif under is not None and under >= s.bodiless_share:
            state = "no body"
        elif (beside is not None and beside < s.framed_share) or framed_close:
            state = "framed"
        else:
            state = "in view"
        return RoomVerdict(
            state,
            share,
            len(self.shares),
            under,
            len(self.unders),
            beside,
            len(self.besides),
            close,
            len(self.closes),
            framed_close=state == "framed" and not (beside is not None and beside < s.framed_share),
        )
