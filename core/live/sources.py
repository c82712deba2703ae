"""Where frames come from: a camera by index, an RTSP/HTTP stream, or a video file.

Qt-free, so the live loop can be driven from a script or a test exactly as the window drives
it. A file stands in for a camera in tests: ``pace=True`` delivers it at its native frame rate
and drops frames when the reader falls behind (what a camera does), ``loop=True`` starts it
again at the end. Every failure is a SourceError whose message says which source and why, so
the window can show it and try again later.
"""

from __future__ import annotations

import glob
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from core.errors import FaceGateError

#: How long a stream may take to answer, and to send the next frame, before it counts as lost.
STREAM_TIMEOUT_MS = 5000
#: Undecodable frames in a row a camera or stream may send before it counts as lost.
MAX_BAD_FRAMES = 5
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)


class SourceError(FaceGateError):
    """A source cannot be opened or stopped sending: missing, busy, unreachable, unreadable."""


@dataclass(frozen=True)
class SourceSpec:
    """What the user chose: ``kind`` is camera | url | file; ``target`` the index, URL or path."""

    kind: str
    target: int | str

    def __str__(self) -> str:
        return f"camera {self.target}" if self.kind == "camera" else str(self.target)


@dataclass
class Frame:
    """One RGB frame; ``timestamp`` is time.monotonic() at capture, ``index`` its number in the
    source (for a file, the frame's position in the file, so skipped frames leave gaps)."""

    rgb: np.ndarray
    timestamp: float
    index: int


def parse_source(text: str | int) -> SourceSpec:
    """'0' -> camera 0, 'rtsp://…' / 'http://…' -> url, anything else -> a file path."""
    if isinstance(text, int):
        return SourceSpec("camera", text)
    text = str(text).strip()
    if not text:
        raise SourceError("no source given: a camera number, a URL or a video file")
    if text.isdigit():
        return SourceSpec("camera", int(text))
    if _URL.match(text) and not text.lower().startswith("file://"):
        return SourceSpec("url", text)
    return SourceSpec("file", text[7:] if text.lower().startswith("file://") else text)


def list_cameras(max_index: int = 10) -> list[int]:
    """Indices of the cameras present. On Linux from /dev/video* (instant, and it does not wake
    every device); elsewhere by opening indices 0..max_index-1 one after the other."""
    if sys.platform.startswith("linux"):
        found = []
        for dev in glob.glob("/dev/video*"):
            m = re.fullmatch(r"/dev/video(\d+)", dev)
            # a V4L2 node that is a capture device has a "name"; metadata nodes share it, so
            # keep those whose index is the lowest of their device (index 0 of the device)
            if m and _is_capture_node(int(m.group(1))):
                found.append(int(m.group(1)))
        return sorted(found)
    found = []
    for i in range(max_index):
        cap = cv2.VideoCapture(i)
        try:
            if cap.isOpened():
                found.append(i)
        finally:
            cap.release()
    return found


def _is_capture_node(index: int) -> bool:
    index_file = Path(f"/sys/class/video4linux/video{index}/index")
    try:
        return int(index_file.read_text().strip()) == 0
    except (OSError, ValueError):
        return True  # no sysfs (containers): trust the device node


class FrameSource:
    """Opens a SourceSpec and hands out RGB frames with read(); close() releases it.

    read() returns None only when a file ends (and does not loop); a camera or stream that
    stops sending raises SourceError, so the caller can reopen it.
    """

    def __init__(
        self, spec: SourceSpec | str | int, pace: bool = True, loop: bool = False, timeout_ms: int = STREAM_TIMEOUT_MS
    ) -> None:
        self.spec = spec if isinstance(spec, SourceSpec) else parse_source(spec)
        self.pace = pace
        self.loop = loop
        self.timeout_ms = timeout_ms
        self.fps = 0.0
        self.frame_count = 0
        self._cap: cv2.VideoCapture | None = None
        self._first: np.ndarray | None = None
        self._index = -1
        self._start = 0.0
        self._open()

    # -- opening --------------------------------------------------------------------------------
    def _open(self) -> None:
        kind, target = self.spec.kind, self.spec.target
        if kind == "file":
            path = Path(str(target))
            if not path.is_file():
                raise SourceError(f"{path}: no such video file")
            cap = cv2.VideoCapture(str(path))
        elif kind == "camera":
            if sys.platform.startswith("linux") and not os.path.exists(f"/dev/video{target}"):
                raise SourceError(f"camera {target}: not connected (no /dev/video{target})")
            cap = cv2.VideoCapture(int(target))
        else:
            params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, self.timeout_ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, self.timeout_ms]
            cap = cv2.VideoCapture(str(target), cv2.CAP_FFMPEG, params)
        if not cap.isOpened():
            cap.release()
            raise SourceError(self._why_not_open())
        ok, bgr = cap.read()  # a device that opens but gives nothing is busy or broken
        if not ok or bgr is None:
            cap.release()
            raise SourceError(self._why_not_open(opened=True))
        self._first = bgr
        self._cap = cap
        fps = cap.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if fps and 1 <= fps <= 240 else 30.0
        self.frame_count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) if kind == "file" else 0
        self._index = -1
        self._start = time.monotonic()

    def _why_not_open(self, opened: bool = False) -> str:
        kind, target = self.spec.kind, self.spec.target
        if kind == "file":
            return f"{target}: not a video file OpenCV can read" if not opened else f"{target}: holds no frames"
        if kind == "camera":
            return f"camera {target}: busy (another program is using it) or not working"
        return f"{target}: the stream does not answer (no video within {self.timeout_ms / 1000:.0f} s)"

    # -- reading --------------------------------------------------------------------------------
    def read(self) -> Frame | None:
        """The next frame (RGB); None when a non-looping file has ended."""
        self._opened()
        if self.spec.kind == "file" and self.pace:
            self._keep_time()
        bgr = self._grab()
        if bgr is None and self.spec.kind != "file":
            bgr = self._grab_after_bad_frame()
        if bgr is None:
            if not self.loop:
                return None
            self.close()
            self._open()  # reopen, not seek: a file replaced or moved away is noticed
            bgr = self._grab()
            if bgr is None:
                raise SourceError(f"{self.spec}: holds no frames")
        self._index += 1
        return Frame(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), time.monotonic(), self._index)

    def _grab(self) -> np.ndarray | None:
        if self._first is not None:
            bgr, self._first = self._first, None
            return bgr
        ok, bgr = self._opened().read()
        return bgr if ok else None

    def _opened(self) -> cv2.VideoCapture:
        if self._cap is None:
            raise SourceError(f"{self.spec}: closed")
        return self._cap

    def _grab_after_bad_frame(self) -> np.ndarray:
        """A camera or stream sent a frame that did not decode: read on, up to MAX_BAD_FRAMES and
        no longer than the timeout, before calling it lost (one garbled frame of an IP camera
        must not cost a reconnect; a dead or silent one still fails within the timeout)."""
        started = time.monotonic()
        for _ in range(MAX_BAD_FRAMES):
            if (time.monotonic() - started) * 1000 >= self.timeout_ms:
                break
            bgr = self._grab()
            if bgr is not None:
                return bgr
        raise SourceError(f"{self.spec}: stopped sending video")

    def _keep_time(self) -> None:
        """Play a file as a camera would: wait for the next frame's moment, skip the frames
        whose moment has passed (the reader was busy) so the picture never lags behind."""
        late = time.monotonic() - (self._start + (self._index + 1) / self.fps)
        if late < 0:
            time.sleep(-late)
            return
        for _ in range(int(late * self.fps)):
            if not self._opened().grab():
                return
            self._index += 1

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None
            self._first = None

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
