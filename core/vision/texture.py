"""Is the face at the door printed or on a screen? A passive texture cue beside the head turn and
the blink (core.vision.liveness), which a video of the person replayed on a phone passes.

A screen shows itself in texture, not geometry: the panel's pixel grid and the moiré the camera
makes of it, the glare, the gamut, the bezel around the face; a print its paper and halftone.
MiniFASNetV2-SE (resources/models/minifas, Apache-2.0) was trained on CelebA-Spoof to tell them
from a live face; it runs in OpenCV's dnn module. Fed as its authors feed it: a square of 1.5x
the face box (reflected where it leaves the picture), 128x128 RGB in [0, 1]; out come two logits
(real, spoof). The *score* is real - spoof: >= 0 is "real" at probability 0.5.

One frame is not a verdict: a live face at a soft camera scores "spoof" on some frames, and a
phone on some "real". A visit's verdict is the median of its last ``frames`` scores (measured
against a run of N "real" frames: README, "What the liveness check stops") *and* of all its
scores: the person at the door chooses how long to stand there, so a last-5 window alone lets a
screen that reads "spoof" through on its first lucky window (a generated screen filling the view
read "spoof" at frame 43 and was let in at frame 62: docs/liveness.md), and the whole visit alone
would let a phone raised in front of a live face inherit the face's scores. Only faces of at
least ``MIN_FACE`` px that pass the quality gates are judged (the door never shows the check the
others: they are "come closer" or "blurred", as before).

The model costs ~7 ms a face and holds no GIL while it runs; TextureScorer runs it on its own
thread, so the frame thread only cuts the 128x128 crop (~0.1 ms) and never waits for it.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from core.errors import ModelError
from core.paths import resource_path
from core.records import Box

#: the model, shipped in resources/ with its licence and origin beside it
MODEL = "models/minifas/minifasnet_v2se_128.onnx"
SIZE = 128  # px, the network's input
PAD = 1.5  # the crop's side over the face box's larger side
MIN_FACE = 64  # px: smaller faces are not judged (the model's authors' floor)
#: what the door does with the verdict: nothing, log it, or refuse a spoof
MODES = ("off", "advisory", "required")


def texture_model_path() -> Path:
    """The model in resources/ (source tree or frozen bundle)."""
    return resource_path(MODEL)


def face_crop(rgb: np.ndarray, box: Box) -> np.ndarray:
    """The model's view of a face: a square of PAD x the box's larger side around its centre,
    reflected (BORDER_REFLECT_101) where it leaves the picture, as SIZE x SIZE RGB uint8."""
    side = max(1, int(round(PAD * max(box.width, box.height))))
    cx, cy = (box.left + box.right) / 2, (box.top + box.bottom) / 2
    x0, y0 = int(round(cx - side / 2)), int(round(cy - side / 2))
    h, w = rgb.shape[:2]
    inner = rgb[max(0, y0) : min(h, y0 + side), max(0, x0) : min(w, x0 + side)]
    top, left = max(0, -y0), max(0, -x0)
    bottom, right = side - inner.shape[0] - top, side - inner.shape[1] - left
    if top or left or bottom > 0 or right > 0:
        inner = cv2.copyMakeBorder(inner, top, max(0, bottom), left, max(0, right), cv2.BORDER_REFLECT_101)
    shrink = inner.shape[0] > SIZE
    return cv2.resize(inner, (SIZE, SIZE), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LANCZOS4)


class TextureModel:
    """MiniFASNetV2-SE in cv2.dnn. Loading checks the file (ModelError names what is wrong); one
    instance is not thread-safe (a dnn Net keeps its buffers): TextureScorer gives it one thread."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else texture_model_path()
        if not self.path.is_file():
            raise ModelError(f"{self.path}: the screen and print check's model (MiniFASNetV2-SE) is missing")
        try:
            self._net = cv2.dnn.readNetFromONNX(str(self.path))
            out = self._forward(np.zeros((1, SIZE, SIZE, 3), np.uint8))
        except cv2.error as exc:
            raise ModelError(
                f"{self.path}: OpenCV could not load the screen and print check's model ({exc.err or 'damaged file'})"
            ) from None
        if out.shape != (1, 2):
            raise ModelError(f"{self.path}: not the screen and print check's model (it answers {out.shape}, not 2 logits)")

    def _forward(self, crops: np.ndarray) -> np.ndarray:
        blob = crops.astype(np.float32).transpose(0, 3, 1, 2) / 255.0
        self._net.setInput(blob)
        return np.asarray(self._net.forward()).reshape(len(crops), -1)

    def scores(self, crops: list[np.ndarray] | np.ndarray) -> np.ndarray:
        """real - spoof logits, one per SIZE x SIZE RGB crop (face_crop). One forward a crop:
        the exported graph flattens with a batch of 1 built in (OpenCV refuses a batch of 2)."""
        out = np.concatenate([self._forward(np.asarray(c, np.uint8)[None]) for c in crops])
        return out[:, 0] - out[:, 1]

    def score(self, rgb: np.ndarray, box: Box) -> float:
        return float(self.scores([face_crop(rgb, box)])[0])


class TextureScorer:
    """Scores crops off the caller's thread: submit() returns a Future at once (None when the
    scorer is busy: the frame is skipped, never queued behind), or, ``inline``, a Future already
    done (``facegate replay`` and the benches: the same video gives the same verdicts anywhere)."""

    def __init__(self, model: TextureModel | None = None, inline: bool = False, max_in_flight: int = 2) -> None:
        self.model = model or TextureModel()
        self.inline = inline
        self.max_in_flight = max_in_flight
        self._pool = None if inline else ThreadPoolExecutor(1, thread_name_prefix="facegate-texture")
        self._lock = threading.Lock()
        self._in_flight = 0

    def submit(self, crop: np.ndarray) -> Future | None:
        if self._pool is None:
            done: Future = Future()
            done.set_result(float(self.model.scores([crop])[0]))
            return done
        with self._lock:
            if self._in_flight >= self.max_in_flight:
                return None
            self._in_flight += 1
        future = self._pool.submit(lambda: float(self.model.scores([crop])[0]))
        future.add_done_callback(self._finished)
        return future

    def _finished(self, _future: Future) -> None:
        with self._lock:
            self._in_flight -= 1

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


@dataclass(frozen=True)
class TextureVerdict:
    """A visit's texture so far: ``state`` "real", "spoof" or "waiting" (fewer than the scores
    needed), the median of the latest scores and of all of them, and how many faces were scored."""

    state: str
    median: float | None
    scored: int
    visit: float | None = None

    def words(self) -> str:
        if self.state == "waiting":
            return f"screen and print check: {self.scored} face(s) scored so far"
        name = "a live face" if self.state == "real" else "a screen or print"
        return (
            f"screen and print check: {name} (median {self.median:+.1f} of the latest, {self.visit:+.1f} over all {self.scored})"
        )


class TextureVotes:
    """One visit's scores: the verdict is the median of the last ``frames`` (a run of single
    frames would let a phone through on a few lucky frames, and stop a soft camera's face) and the
    median of all of them (waiting must not pick a lucky window)."""

    def __init__(self, frames: int = 5, threshold: float = 0.0) -> None:
        self.frames, self.threshold = frames, threshold
        self.scores: list[float] = []
        self._pending: list[Future] = []

    def wait_on(self, future: Future | None) -> None:
        if future is not None:
            self._pending.append(future)

    def collect(self) -> None:
        """Take in the scores finished since last asked (a failed one is dropped)."""
        still = []
        for f in self._pending:
            if not f.done():
                still.append(f)
            elif not f.cancelled() and f.exception() is None:
                self.scores.append(f.result())
        self._pending = still

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    def verdict(self) -> TextureVerdict:
        self.collect()
        if len(self.scores) < self.frames:
            return TextureVerdict("waiting", None, len(self.scores))
        latest, visit = float(np.median(self.scores[-self.frames :])), float(np.median(self.scores))
        state = "real" if min(latest, visit) >= self.threshold else "spoof"
        return TextureVerdict(state, latest, len(self.scores), visit)
