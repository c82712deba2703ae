"""Presentation attacks, generated: a face photo printed and held in front of the door camera.

In ISO/IEC 30107-3 terms each generated video is one *attack presentation*, and the kinds below
are the *presentation attack instrument species* the liveness check must refuse:

- ``still``: a photo (or a frozen screen) that does not move; only the camera's noise changes.
- ``print``: a flat print held by hand: tilted and turned in perspective (up to ±35°), drifting,
  trembling, closer and farther, under changing light, blurred, noisy and JPEG-compressed.
- ``curved``: the same, the sheet bent into a cylinder (about its vertical or horizontal axis,
  bulging towards the camera or away), radius 5-20 cm.
- ``folded``: the same, the sheet folded down the nose line (a ridge or a valley, 10-40° a side),
  the attack meant to give the nose a depth of its own.
- ``screen``: the photo on a phone held by hand: a rigid, bright screen in its black bezel, with
  a reflection that moves as the phone tilts.

Beside them, *replays* (``replay_attack``, kinds REPLAYS): a genuine video of the person played
on a ``phone`` or a ``monitor`` (a tablet, a laptop) held up to the door camera; on a phone or
tablet propped on a ``stand`` (a ledge at face height: nothing moves but the played video); or
on a tablet held so close that its screen fills the view (``fill``: no bezel, no room, the played
face still 80-200 px unless the video's own framing needs more to cover the view). Its frames hold a
real head's turn and blinks, so the head-turn and blink cues pass it by design; what gives it
away is the display (core.vision.texture) and that it moves rigidly with its surroundings. Drawn
as the screen above, plus what a display adds: the content through the display's gamma and
bluish white, its sub-pixel grid (R, G, B columns, a dark row) at 0.6-1.5 camera pixels a screen
pixel (10-40 % contrast left by the lens), resampled by the camera (moiré), refresh banding rolling down the screen, glare, and a
hand's small rigid motion (none on a stand). These test the geometry of the whole door; generated texture is not
a display's, so the texture model's response to them is reported, never tuned on.

Paper only bends (it does not stretch): a point of the print keeps its distance along the sheet,
so the picture on a bent sheet is mapped by arc length. Frames are drawn by casting the camera's
ray through each pixel onto the sheet (a plane, two planes, or a cylinder) and sampling the print
where it lands, so perspective is exact. Everything is drawn from a seed, so a variant can be
made again; the tests and bench/attack_bench.py share this module, and a user can write one to a
file and try it with ``facegate replay``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from core.records import Box

if TYPE_CHECKING:
    from core.vision.describe import Describer
    from core.vision.detection import Detector

KINDS: tuple[str, ...] = ("still", "print", "curved", "folded", "screen")
#: a genuine video replayed on a display held by hand (replay_attack)
REPLAYS: tuple[str, ...] = ("phone", "monitor", "stand", "fill")

FRAME_SIZE = (640, 360)  # the door camera's frame, width x height
FOCAL = 560.0  # px: a webcam's ~60° horizontal field of view at 640 px
DISTANCE = 45.0  # cm from the camera to the sheet at rest
FILL_MARGIN = 0.05  # a screen filling the view covers it and this share of its size beyond each side, at rest


@dataclass(frozen=True)
class FacePhoto:
    """A picture to print: ``rgb``, the face's box in it, and the x of its nose line (where a
    sheet is folded)."""

    name: str
    rgb: np.ndarray
    face: Box
    nose_x: float
    origin: tuple[int, int] = (0, 0)  # where ``rgb`` was cut from the picture (x, y)


@dataclass(frozen=True)
class Presentation:
    """Everything one seed drew for one attack video (kept with the frames, to say what was shown)."""

    kind: str
    seed: int
    source: str
    frames: int
    face_px: float  # face width in the frame at rest
    bend: str  # "flat", "cylinder r=8cm vertical convex", "fold 25° ridge", ...
    yaw: float  # amplitude of the hand's turn, degrees
    pitch: float
    roll: float
    blur: float  # Gaussian sigma, px
    noise: float  # sensor noise sigma, grey levels
    jpeg: int  # JPEG quality of each frame


@dataclass(frozen=True)
class AttackFrame:
    rgb: np.ndarray
    face: Box  # where the printed face is in the frame (projected), for a detector to verify
    screen: np.ndarray | None = None  # a replay's glass (the display's lit area): its 4 corners in the frame, (4, 2)


def face_photo(rgb: np.ndarray, name: str, describer: Describer, detector: Detector | None = None) -> FacePhoto:
    """Crop the largest face of ``rgb`` with room around it, as a print or a phone would show it."""
    from core.vision.detection import Detector

    detector = detector or Detector("hog", min_face=40)
    boxes = detector.detect(rgb)
    if not boxes:
        raise ValueError(f"{name}: no face to print")
    box = max(boxes, key=lambda b: b.area)
    shape = describer.landmarks(rgb, box, 68)
    nose_x = float(np.mean([shape.part(i).x for i in range(27, 31)]))
    h, w = rgb.shape[:2]
    cx, cy = (box.left + box.right) / 2, (box.top + box.bottom) / 2
    half_w, half_h = box.width * 1.2, box.height * 1.45
    x0, y0 = int(max(0, cx - half_w)), int(max(0, cy - half_h * 0.9))
    x1, y1 = int(min(w, cx + half_w)), int(min(h, cy + half_h * 1.1))
    crop = np.ascontiguousarray(rgb[y0:y1, x0:x1])
    return FacePhoto(name, crop, Box(box.left - x0, box.top - y0, box.right - x0, box.bottom - y0), nose_x - x0, (x0, y0))


def attack(
    kind: str, photo: FacePhoto, background: np.ndarray, seed: int, frames: int = 90, fps: float = 30.0
) -> tuple[Presentation, Iterator[AttackFrame]]:
    """What one attack presentation of ``kind`` looks like (drawn from ``seed``), and its frames."""
    if kind not in KINDS:
        raise ValueError(f"unknown attack {kind!r}; choose one of {', '.join(KINDS)}")
    rng = np.random.default_rng([KINDS.index(kind), seed])
    scene = _Scene(kind, photo, background, rng, frames, fps)
    return scene.presentation(seed), scene.frames()


def replay_attack(
    kind: str,
    video: Sequence[np.ndarray],
    describer: Describer,
    background: np.ndarray,
    seed: int,
    frames: int = 90,
    fps: float = 30.0,
    name: str = "video",
    room_first: int = 0,
) -> tuple[Presentation, Iterator[AttackFrame]]:
    """A genuine ``video`` (RGB frames, its largest face in the first) played on a ``kind`` of
    display in front of the door camera (held by hand, on a stand, or filling the view), drawn
    from ``seed``; loops if shorter. ``room_first``: frames of the door camera's empty room
    (``background`` through the same camera) before the display comes up, as a door sees its
    room before anyone arrives; their ``face`` is an empty box."""
    if kind not in REPLAYS:
        raise ValueError(f"unknown replay {kind!r}; choose one of {', '.join(REPLAYS)}")
    rng = np.random.default_rng([len(KINDS) + 1, REPLAYS.index(kind), seed])
    scene = _ReplayScene(kind, video, face_photo(video[0], name, describer), background, rng, frames, fps)
    room = (AttackFrame(scene.camera.shoot(scene.background, 0.0), Box(0, 0, 0, 0)) for _ in range(room_first))
    return scene.presentation(seed), itertools.chain(room, scene.frames())


def through_camera(frames: Sequence[np.ndarray], seed: int, take: int = 0) -> Iterator[np.ndarray]:
    """Real frames as another door camera would give them (exposure drift, blur, noise, JPEG),
    drawn from ``seed``: more genuine visits from one recording, for the bona fide side. Another
    ``take`` is the same camera recording again: its own sensor noise, everything else alike (a
    door enrolls people through the camera that then sees them)."""
    camera = Camera.draw(np.random.default_rng([len(KINDS), seed]), moving=True)
    if take:
        camera.rng = np.random.default_rng([len(KINDS), seed, take])
    for i, rgb in enumerate(frames):
        yield camera.shoot(rgb, i / max(1, len(frames) - 1))


def write_video(frames: Sequence[np.ndarray] | Iterator[np.ndarray], path: str | Path, fps: float = 30.0) -> Path:
    """Write RGB frames to an .mp4 (for ``facegate replay`` or the window's Source menu)."""
    path = Path(path)
    writer = None
    try:
        for rgb in frames:
            if writer is None:
                h, w = rgb.shape[:2]
                writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, (w, h))
                if not writer.isOpened():
                    raise OSError(f"{path}: cannot write a video here")
            writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    finally:
        if writer is not None:
            writer.release()
    return path


# -- the scene --------------------------------------------------------------------------------------
def _rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Sheet to camera: yaw about the vertical, pitch about the horizontal, roll about the view
    axis (degrees), with the sheet's own z pointing back at the camera."""
    y, p, r = np.radians([yaw, pitch, roll])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    return ry @ rx @ rz @ np.diag([1.0, 1.0, -1.0])


class _Sheet:
    """The shape of the sheet in its own coordinates (cm; u right, v down, w towards the camera),
    bent about the line u = 0 (or v = 0 when ``horizontal``): the nose line for a fold."""

    def __init__(self, shape: str, amount: float, sign: int, horizontal: bool) -> None:
        self.shape, self.amount, self.sign, self.horizontal = shape, amount, sign, horizontal

    def describe(self) -> str:
        if self.shape == "flat":
            return "flat"
        axis = "horizontal" if self.horizontal else "vertical"
        if self.shape == "fold":
            return f"fold {self.amount:.0f}° {'ridge' if self.sign < 0 else 'valley'} ({axis})"
        return f"cylinder r={self.amount:.0f}cm {axis} {'convex' if self.sign < 0 else 'concave'}"

    def point(self, s: np.ndarray, v: np.ndarray) -> np.ndarray:
        """3-D points (N, 3) of the print's points at arc length (s, v) from the bend line."""
        a, b = (v, s) if self.horizontal else (s, v)  # a: across the bend, b: along it
        if self.shape == "flat":
            across, w = a, np.zeros_like(a)
        elif self.shape == "fold":
            t = np.radians(self.amount)
            across, w = a * np.cos(t), self.sign * np.abs(a) * np.sin(t)
        else:
            phi = a / self.amount
            across, w = self.amount * np.sin(phi), self.sign * self.amount * (1 - np.cos(phi))
        u, vv = (b, across) if self.horizontal else (across, b)
        return np.stack([u, vv, w], axis=-1)

    def hit(self, o: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Where rays (origin ``o`` (3,), directions ``d`` (N, 3), sheet coordinates) meet the
        sheet: (arc s, v, valid, surface normal (N, 3))."""
        if self.horizontal:  # swap u and v, solve as a vertical bend, swap back
            o, d = o[[1, 0, 2]], d[:, [1, 0, 2]]
        n = len(d)
        normal = np.tile([0.0, 0.0, 1.0], (n, 1))
        if self.shape == "flat":
            t = -o[2] / d[:, 2]
            a, b = o[0] + t * d[:, 0], o[1] + t * d[:, 1]
            s, valid = a, t > 0
        elif self.shape == "fold":
            ang = np.radians(self.amount)
            best = np.full(n, np.inf)
            s = np.zeros(n)
            for side in (1, -1):
                m = self.sign * side * np.tan(ang)  # w = m * u on this side
                t = (m * o[0] - o[2]) / (d[:, 2] - m * d[:, 0])
                u = o[0] + t * d[:, 0]
                ok = (t > 0) & (np.sign(u) == side) & (t < best)
                best = np.where(ok, t, best)
                s = np.where(ok, u / np.cos(ang), s)
                nx, nz = -m, 1.0
                normal[ok] = np.array([nx, 0, nz]) / np.hypot(nx, nz)
            t, valid = best, np.isfinite(best)
            b = o[1] + np.where(valid, t, 0) * d[:, 1]
        else:
            r, wc = self.amount, self.sign * self.amount  # circle of radius r centred at w = wc
            ou, ow = o[0], o[2] - wc
            qa = d[:, 0] ** 2 + d[:, 2] ** 2
            qb = 2 * (ou * d[:, 0] + ow * d[:, 2])
            qc = ou**2 + ow**2 - r**2
            disc = qb**2 - 4 * qa * qc
            root = np.sqrt(np.maximum(disc, 0))
            best = np.full(n, np.inf)
            for t in ((-qb - root) / (2 * qa), (-qb + root) / (2 * qa)):
                wrel = ow + t * d[:, 2]  # w - wc: on the sheet's side of the circle
                ok = (disc >= 0) & (t > 0) & (np.sign(-wrel) == np.sign(wc)) & (t < best)
                best = np.where(ok, t, best)
            valid = np.isfinite(best)
            t = np.where(valid, best, 0)
            u, wrel = ou + t * d[:, 0], ow + t * d[:, 2]
            s = r * np.arctan2(u, np.abs(wrel))
            normal = np.stack([-u, np.zeros(n), -wrel], axis=1) / r * np.sign(wc)
            b = o[1] + t * d[:, 1]
        if self.horizontal:
            normal = normal[:, [1, 0, 2]]
            return b, s, valid, normal
        return s, b, valid, normal


class _Scene:
    """One seed's attack: the print (or phone), its bend, the hand's motion, light and camera."""

    def __init__(
        self, kind: str, photo: FacePhoto, background: np.ndarray, rng: np.random.Generator, frames: int, fps: float
    ) -> None:
        self.kind, self.photo, self.rng, self.n, self.fps = kind, photo, rng, frames, fps
        self.emissive = kind in ("screen", *REPLAYS)  # lit from within, with a glare on its glass
        w, h = FRAME_SIZE
        self.background = (
            cv2.resize(background, (w, h), interpolation=cv2.INTER_AREA) if background.shape[:2] != (h, w) else background
        )
        self.face_px = self._face_size(rng)
        self.texture, self.centre, texel = self._texture(self.face_px / photo.face.width)
        self.texel_of_photo = texel
        self.scale = self.face_px * DISTANCE / FOCAL / photo.face.width * texel  # cm per texture pixel
        moving = kind != "still"
        self.yaw_amp = float(rng.uniform(10, 35)) if moving else 0.0
        self.pitch_amp = float(rng.uniform(5, 25)) if moving else 0.0
        self.roll_amp = float(rng.uniform(2, 10)) if moving else 0.0
        self.rest = rng.uniform([-10, -8, -5], [10, 8, 5])  # the pose it is held at
        self.freq = rng.uniform(0.25, 1.0, 3)  # turns per second, per axis
        self.phase = rng.uniform(0, 2 * np.pi, 6)
        self.drift = rng.uniform(10, 60, 2) if moving else np.zeros(2)  # px of wandering
        self.tremor = 0.3 if moving else 0.0  # degrees of hand tremor
        self.sway = 0.1 if moving else 0.0  # the distance's swing, a share of it
        self.position = rng.uniform([0.3 * w, 0.3 * h], [0.7 * w, 0.6 * h])
        self.light = _unit(np.array([rng.uniform(-0.6, 0.6), rng.uniform(-0.8, 0.1), -1.0]))
        self.camera = Camera.draw(rng, moving)
        self.sheet = self._sheet()

    def _face_size(self, rng: np.random.Generator) -> float:
        """The face's width in the frame at rest, px."""
        return float(rng.uniform(62, 120))

    def _texture(self, shown: float) -> tuple[np.ndarray, tuple[float, float], float]:
        """The picture as it is seen: a print (a little less contrast, paper white margin) or a
        phone (the photo filling a bright screen, in a black bezel); its face centre; and photo
        pixels per texture pixel (a photo far larger than it will be shown is shrunk first)."""
        p = self.photo
        texel = max(1.0, 1 / (2 * shown))
        img: np.ndarray = p.rgb.astype(np.float32)
        if texel > 1:
            img = cv2.resize(img, None, fx=1 / texel, fy=1 / texel, interpolation=cv2.INTER_AREA)
        face = Box(*(int(round(c / texel)) for c in p.face.as_tuple()))
        if self.kind != "screen":
            img = 18 + img * 0.9  # ink on paper: no true black
            margin = max(2, int(0.04 * max(img.shape[:2])))
            img = cv2.copyMakeBorder(img, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=(235, 235, 228))
            cx, cy = (face.left + face.right) / 2 + margin, (face.top + face.bottom) / 2 + margin
            return np.clip(img, 0, 255).astype(np.uint8), (cx, cy), texel
        img = np.clip(img * 1.08 + np.array([0, 3, 12]), 0, 255)  # a phone: brighter, bluer
        h, w = img.shape[:2]
        bezel = max(4, int(0.06 * w))
        body = np.full((h + 2 * bezel + int(0.25 * w), w + 2 * bezel, 3), 12, np.float32)
        top = bezel + int(0.12 * w)
        body[top : top + h, bezel : bezel + w] = img
        cx, cy = (face.left + face.right) / 2 + bezel, (face.top + face.bottom) / 2 + top
        return body.astype(np.uint8), (cx, cy), texel

    def _sheet(self) -> _Sheet:
        rng = self.rng
        f = self.photo.face
        self.fold_offset = (self.photo.nose_x - (f.left + f.right) / 2) * self.scale / self.texel_of_photo
        if self.kind == "curved":
            return _Sheet("cylinder", float(rng.uniform(5, 20)), int(rng.choice([-1, 1])), bool(rng.random() < 0.3))
        if self.kind == "folded":
            return _Sheet("fold", float(rng.uniform(10, 40)), int(rng.choice([-1, 1])), False)
        return _Sheet("flat", 0.0, 1, False)

    def presentation(self, seed: int) -> Presentation:
        c = self.camera
        return Presentation(
            self.kind,
            seed,
            self.photo.name,
            self.n,
            self.face_px,
            self.sheet.describe(),
            self.yaw_amp,
            self.pitch_amp,
            self.roll_amp,
            c.blur,
            c.noise,
            c.jpeg,
        )

    def pose(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Rotation and translation (cm) of the sheet at frame ``i``: a hand turning it to and fro."""
        t = i / self.fps
        wave = np.sin(2 * np.pi * self.freq * t + self.phase[:3])
        angles = self.rest + np.array([self.yaw_amp, self.pitch_amp, self.roll_amp]) * wave
        angles = angles + self.tremor * np.sin(2 * np.pi * 9.0 * t + self.phase[3:6])
        drift = self.drift * np.sin(2 * np.pi * 0.2 * t + self.phase[3:5])
        x, y = self.position + drift
        z = DISTANCE * (1 + self.sway * np.sin(2 * np.pi * 0.3 * t + self.phase[5]))
        cx, cy = FRAME_SIZE[0] / 2, FRAME_SIZE[1] / 2
        return _rotation(*angles), np.array([(x - cx) * z / FOCAL, (y - cy) * z / FOCAL, z])

    def frames(self) -> Iterator[AttackFrame]:
        still = None
        for i in range(self.n):
            if self.kind == "still" and still is not None:
                rgb, box = still
            else:
                rgb, box = self._draw(i)
                if self.kind == "still":
                    still = (rgb, box)
            yield AttackFrame(self.camera.shoot(rgb, i / max(1, self.n - 1)), box)

    # -- drawing ------------------------------------------------------------------------------
    def _sheet_points(self, px: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Texture pixels -> sheet coordinates (arc s from the fold line, v), cm."""
        cx, cy = self.centre
        return (px[:, 0] - cx) * self.scale - self.fold_offset, (px[:, 1] - cy) * self.scale

    def _project(self, points: np.ndarray, rot: np.ndarray, trans: np.ndarray) -> np.ndarray:
        cam = points @ rot.T + trans
        return np.stack(
            [FOCAL * cam[:, 0] / cam[:, 2] + FRAME_SIZE[0] / 2, FOCAL * cam[:, 1] / cam[:, 2] + FRAME_SIZE[1] / 2], axis=1
        )

    def _draw(self, i: int) -> tuple[np.ndarray, Box]:
        rot, trans = self.pose(i)
        h, w = self.texture.shape[:2]
        edge = np.concatenate(
            [np.stack([np.linspace(0, w, 24), np.full(24, y)], 1) for y in (0, h)]
            + [np.stack([np.full(24, x), np.linspace(0, h, 24)], 1) for x in (0, w)]
        )
        s, v = self._sheet_points(edge)
        outline = self._project(self.sheet.point(s, v), rot, trans)
        fw, fh = FRAME_SIZE
        x0, y0 = np.clip(np.floor(outline.min(0)).astype(int) - 2, 0, [fw, fh])
        x1, y1 = np.clip(np.ceil(outline.max(0)).astype(int) + 2, 0, [fw, fh])
        frame = self.background.copy()
        f = self.photo.face
        face_px = np.array(
            [
                [f.left, f.top],
                [f.right, f.top],
                [f.left, f.bottom],
                [f.right, f.bottom],
                [(f.left + f.right) / 2, f.top],
                [(f.left + f.right) / 2, f.bottom],
            ],
            float,
        )
        face_px = (face_px - np.array(f.center)) / self.texel_of_photo + np.array(self.centre)
        fs, fv = self._sheet_points(face_px)
        corners = self._project(self.sheet.point(fs, fv), rot, trans)
        box = Box(*(int(round(c)) for c in (*corners.min(0), *corners.max(0))))
        if x1 <= x0 or y1 <= y0:
            return frame, box
        # Rays through every 4th pixel (the centres of 4x4 blocks), the maps then resized to
        # every pixel: the sheet is smooth, and this is 16 times cheaper.
        step = 4
        gw, gh = -(-(x1 - x0) // step), -(-(y1 - y0) // step)
        ys, xs = np.mgrid[0:gh, 0:gw] * step + (step - 1) / 2
        rays = np.stack([(xs.ravel() + x0 - fw / 2) / FOCAL, (ys.ravel() + y0 - fh / 2) / FOCAL, np.ones(xs.size)], 1)
        s, v, valid, normal = self.sheet.hit(-rot.T @ trans, rays @ rot)  # rays in sheet coordinates
        normal = normal @ rot.T  # in the camera's
        cx, cy = self.centre
        mx, my = (s + self.fold_offset) / self.scale + cx, v / self.scale + cy
        inside = valid & (normal[:, 2] < -0.05) & (mx >= 0) & (mx <= w - 1) & (my >= 0) & (my <= h - 1)
        if self.emissive:  # emissive, plus a reflection that slides as the phone turns
            light: np.ndarray = 40 * np.exp(-8 * ((mx / w - 0.5 + rot[0, 2]) * 3 + (my / h - 0.5 + rot[1, 2])) ** 2)
            gain: np.ndarray = np.ones_like(mx)
        else:
            light = np.zeros_like(mx)
            gain = 0.55 + 0.5 * np.clip(normal @ self.light, 0, 1)
        layers: np.ndarray = np.stack([mx, my, inside, light, gain], axis=-1).reshape(gh, gw, 5).astype(np.float32)
        layers = cv2.resize(layers, (gw * step, gh * step), interpolation=cv2.INTER_LINEAR)[: y1 - y0, : x1 - x0]
        sampled = cv2.remap(self.texture, layers[..., 0], layers[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        gain, light = cv2.merge([layers[..., 4]] * 3), cv2.merge([layers[..., 3]] * 3)
        lit = cv2.add(cv2.multiply(sampled, gain, dtype=cv2.CV_32F), light, dtype=cv2.CV_8U)
        show = (layers[..., 2] > 0.5).astype(np.uint8)
        cv2.copyTo(lit, show, frame[y0:y1, x0:x1])
        return frame, box


class _ReplayScene(_Scene):
    """A video on a display: the screen scene, with each frame's content drawn through the
    display (gamma, sub-pixel grid, refresh banding) in its bezel, and a smaller hand motion;
    on a stand, none; filling the view, the whole video on a screen that covers the frame."""

    def __init__(
        self,
        kind: str,
        video: Sequence[np.ndarray],
        photo: FacePhoto,
        background: np.ndarray,
        rng: np.random.Generator,
        frames: int,
        fps: float,
    ) -> None:
        self.video = video
        self._grid: np.ndarray | None = None
        self.gamma = float(rng.uniform(0.8, 1.25))
        self.pitch_px = float(rng.uniform(0.6, 1.5))  # camera px per screen pixel, at rest
        self.grid_depth = float(rng.uniform(0.1, 0.4))  # the sub-pixel grid's contrast through the lens
        self.band = float(rng.uniform(0.03, 0.12))  # depth of the refresh banding
        self.bands = float(rng.uniform(1.0, 4.0))  # bands on the screen, rolling at...
        self.band_speed = float(rng.uniform(0.5, 3.0))  # ...screens a second
        self.handset = kind == "phone" or kind == "stand" and bool(rng.random() < 0.5)  # a phone's deeper top bezel
        if kind == "fill":  # the screen shows the whole video (zoomed to fill it), not the face's surroundings
            photo = _whole(photo, video[0])
        super().__init__(kind, photo, background, rng, frames, fps)
        if kind == "stand":
            self._on_stand(rng)
            return
        calm = {"phone": 0.5, "fill": 0.2}.get(kind, 0.25)  # held up to the camera, not waved about
        self.yaw_amp, self.pitch_amp, self.roll_amp = self.yaw_amp * calm, self.pitch_amp * calm, self.roll_amp * calm
        self.drift = self.drift * calm
        if kind == "fill":
            self._filling(rng)

    def _on_stand(self, rng: np.random.Generator) -> None:
        """Propped on a ledge: no hand, so no motion at all; turned on the ledge, leaned on its
        stand, a little crooked."""
        self.yaw_amp = self.pitch_amp = self.roll_amp = self.tremor = self.sway = 0.0
        self.drift = np.zeros(2)
        self.rest = rng.uniform([-15, -12, -3], [15, 12, 3])

    def _face_size(self, rng: np.random.Generator) -> float:
        if self.kind != "fill":
            return super()._face_size(rng)
        # the least face width at which the video, zoomed, covers the view and a margin each side
        w, h = FRAME_SIZE
        vh, vw = self.photo.rgb.shape[:2]
        cover = max(w * (1 + 2 * FILL_MARGIN) / vw, h * (1 + 2 * FILL_MARGIN) / vh) * self.photo.face.width
        least = max(80.0, cover)
        return float(rng.uniform(least, max(least, 200.0)))

    def _filling(self, rng: np.random.Generator) -> None:
        """Held close and calm: the face placed where the screen covers the view with the margin;
        the motion halved until no frame shows the screen's edge."""
        w, h = FRAME_SIZE
        f, (vh, vw) = self.photo.face, self.photo.rgb.shape[:2]
        scale = self.face_px / f.width  # frame px per video px
        fx, fy = f.center
        place = []
        for size, video, centre, half in ((w, vw, fx, self.face_px / 2), (h, vh, fy, f.height * scale / 2)):
            lo, hi = size * (1 + FILL_MARGIN) - (video - centre) * scale, centre * scale - size * FILL_MARGIN
            inside = max(lo, half), min(hi, size - half)  # the whole face in the frame too
            near = float(np.clip(size / 2, min(lo, hi), max(lo, hi)))  # where that cannot be: nearest the middle
            place.append(rng.uniform(*inside) if inside[0] <= inside[1] else near)
        self.position = np.array(place)
        self.rest = self.rest * 0.3
        self.sway = 0.03
        for _ in range(8):
            if all(self._covers(i) for i in range(self.n)):
                return
            self.rest, self.drift = self.rest / 2, self.drift / 2
            self.yaw_amp, self.pitch_amp, self.roll_amp = self.yaw_amp / 2, self.pitch_amp / 2, self.roll_amp / 2
            self.tremor, self.sway = self.tremor / 2, self.sway / 2
        self.rest, self.drift = np.zeros(3), np.zeros(2)
        self.yaw_amp = self.pitch_amp = self.roll_amp = self.tremor = self.sway = 0.0

    def _covers(self, i: int) -> bool:
        """Whether the glass covers the whole frame at frame ``i``."""
        glass = self._glass(i).astype(np.float32)
        w, h = FRAME_SIZE
        return all(cv2.pointPolygonTest(glass, (float(x), float(y)), False) > 0 for x in (0, w) for y in (0, h))

    def _glass(self, i: int) -> np.ndarray:
        """The 4 corners of the display's lit area in frame ``i`` (clockwise from top left)."""
        x0, y0, x1, y1 = self._glass_box
        s, v = self._sheet_points(np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], float))
        return self._project(self.sheet.point(s, v), *self.pose(i))

    def presentation(self, seed: int) -> Presentation:
        held = {"stand": f" ({'phone' if self.handset else 'tablet'}, rest {np.round(self.rest).astype(int).tolist()}°)"}
        return replace(
            super().presentation(seed),
            bend=f"{self.kind}{held.get(self.kind, '')}: gamma {self.gamma:.2f}, pixel {self.pitch_px:.2f} "
            f"camera px, grid {self.grid_depth:.2f}, banding {self.band:.2f}",
        )

    def _texture(self, shown: float) -> tuple[np.ndarray, tuple[float, float], float]:
        self.screen_px = shown / self.pitch_px  # screen pixels per photo pixel
        texture = self._display(self.photo.rgb, 0.0)
        f = self.photo.face
        per_texel = 1 / (3 * self.screen_px)  # photo px per texture px
        return (
            texture,
            ((f.left + f.right) / 2 / per_texel + self._bezel, (f.top + f.bottom) / 2 / per_texel + self._top),
            per_texel,
        )

    def _display(self, content: np.ndarray, t: float) -> np.ndarray:
        """``content`` as the display shows it, in its bezel: 3x3 texture pixels a screen pixel."""
        ph, pw = self.photo.rgb.shape[:2]
        sw, sh = max(8, int(round(pw * self.screen_px))), max(8, int(round(ph * self.screen_px)))
        if content.shape[:2] != (ph, pw):
            content = cv2.resize(content, (pw, ph), interpolation=cv2.INTER_AREA)
        img = cv2.resize(content, (sw, sh), interpolation=cv2.INTER_AREA if self.screen_px < 1 else cv2.INTER_LINEAR)
        img = cv2.pow(img.astype(np.float32) / 255, self.gamma) * 0.85 + np.array([0, 0.01, 0.05], np.float32)
        rows = np.arange(sh, dtype=np.float32)[:, None, None] / sh
        img *= 1 - self.band * (0.5 + 0.5 * np.sin(2 * np.pi * (rows * self.bands - t * self.band_speed)))
        if self._grid is None or self._grid.shape[:2] != (3 * sh, 3 * sw):
            cell = np.full((3, 3, 3), 0.7, np.float32)  # R, G, B columns, the bottom row dark
            for c in range(3):
                cell[:2, c, c] = 1.45
            cell[2] = 0.55
            cell = 1 + self.grid_depth * (cell / cell.mean(axis=(0, 1)) - 1)  # what the lens leaves of it
            self._grid = np.tile(cell * 255, (sh, sw, 1))
        big = cv2.resize(img, (3 * sw, 3 * sh), interpolation=cv2.INTER_NEAREST)
        tex = cv2.multiply(big, self._grid, dtype=cv2.CV_8U)
        self._bezel = bezel = max(6, int(0.05 * tex.shape[1]))
        self._top = top = bezel + (int(0.08 * tex.shape[1]) if self.handset else 0)
        body = np.full((tex.shape[0] + top + bezel, tex.shape[1] + 2 * bezel, 3), 14, np.uint8)
        body[top : top + tex.shape[0], bezel : bezel + tex.shape[1]] = tex
        self._glass_box = (bezel, top, bezel + tex.shape[1], top + tex.shape[0])
        return body

    def frames(self) -> Iterator[AttackFrame]:
        crop = self._crop
        for i in range(self.n):
            self.texture = self._display(crop(self.video[i % len(self.video)]), i / self.fps)
            rgb, box = self._draw(i)
            yield AttackFrame(self.camera.shoot(rgb, i / max(1, self.n - 1)), box, self._glass(i))

    def _crop(self, frame: np.ndarray) -> np.ndarray:
        """The part of a video frame the display shows: where face_photo cut the first."""
        x0, y0 = self.photo.origin
        ph, pw = self.photo.rgb.shape[:2]
        return np.ascontiguousarray(frame[y0 : y0 + ph, x0 : x0 + pw])


class Camera:
    """The door camera's own effects: exposure drifting with the light, blur, sensor noise, JPEG."""

    def __init__(self, rng: np.random.Generator, gain: np.ndarray, blur: float, noise: float, jpeg: int) -> None:
        self.rng, self.gain, self.blur, self.noise, self.jpeg = rng, gain, blur, noise, jpeg
        self._grain: np.ndarray | None = None

    @classmethod
    def draw(cls, rng: np.random.Generator, moving: bool) -> Camera:
        gain = rng.uniform(0.75, 1.2, 2) if moving else np.full(2, rng.uniform(0.8, 1.1))
        return cls(rng, gain, float(rng.uniform(0.0, 1.4)), float(rng.uniform(1.0, 6.0)), int(rng.integers(70, 95)))

    def shoot(self, rgb: np.ndarray, t: float) -> np.ndarray:
        """The frame as captured ``t`` (0..1) of the way through the visit."""
        img = cv2.convertScaleAbs(rgb, alpha=float(self.gain[0] + (self.gain[1] - self.gain[0]) * t))
        if self.blur > 0.3:
            img = cv2.GaussianBlur(img, (0, 0), self.blur)
        h, w = img.shape[:2]
        if self._grain is None or self._grain.shape[:2] != (h + 32, w + 32):  # a bank of noise, cut anywhere
            self._grain = (self.rng.standard_normal((h + 32, w + 32, 3)) * self.noise).astype(np.int16)
        dx, dy = self.rng.integers(0, 32, 2)
        out = np.clip(img.astype(np.int16) + self._grain[dy : dy + h, dx : dx + w], 0, 255).astype(np.uint8)
        ok, jpg = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg])
        decoded = cv2.imdecode(jpg, cv2.IMREAD_UNCHANGED) if ok else None
        return out if decoded is None else decoded


def _whole(photo: FacePhoto, frame: np.ndarray) -> FacePhoto:
    """``photo`` (cut from ``frame`` by face_photo) as the whole frame."""
    (x0, y0), f = photo.origin, photo.face
    return FacePhoto(photo.name, frame, Box(f.left + x0, f.top + y0, f.right + x0, f.bottom + y0), photo.nose_x + x0)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)
