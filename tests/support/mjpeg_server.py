"""A camera on the network for the source fault tests: serves the clip as an MJPEG stream over
HTTP (multipart/x-mixed-replace, what IP cameras send) at 30 frames a second, looping.

``mjpeg_server.py PORT [garbage] [--fps N]``: with ``garbage``, every third part is not a good frame (random
bytes, a JPEG cut short, a tiny 16x16 picture, in turn). The tests kill it (the camera dies),
SIGSTOP it (it hangs: the connection stays open, nothing arrives) and start it again.
"""

from __future__ import annotations

import io
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

CLIP = Path(__file__).resolve().parents[1] / "data" / "video" / "short_hamilton_clip.mp4"
BOUNDARY = b"facegateframe"


def clip_jpegs(first: int = 120, count: int = 90) -> list[bytes]:
    cap = cv2.VideoCapture(str(CLIP))
    frames = []
    index = 0
    while len(frames) < count:
        ok, bgr = cap.read()
        if not ok:
            break
        if index >= first:
            frames.append(cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes())
        index += 1
    cap.release()
    return frames


def bad_parts(good: bytes) -> list[bytes]:
    tiny = io.BytesIO()
    Image.new("RGB", (16, 16), (0, 255, 0)).save(tiny, "JPEG")
    return [np.random.default_rng(0).bytes(5000), good[: len(good) // 3], tiny.getvalue()]


def main(port: int, garbage: bool, fps: float = 30.0) -> None:
    frames = clip_jpegs()
    bad = bad_parts(frames[0])

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY.decode()}")
            self.end_headers()
            n = 0
            try:
                while True:
                    part = frames[n % len(frames)]
                    if garbage and n % 3 == 2:
                        part = bad[(n // 3) % len(bad)]
                    self.wfile.write(
                        b"--"
                        + BOUNDARY
                        + b"\r\nContent-Type: image/jpeg\r\n"
                        + f"Content-Length: {len(part)}\r\n\r\n".encode()
                        + part
                        + b"\r\n"
                    )
                    self.wfile.flush()
                    n += 1
                    time.sleep(1 / fps)
            except (BrokenPipeError, ConnectionResetError):
                return

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    print("serving", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    fps = float(sys.argv[sys.argv.index("--fps") + 1]) if "--fps" in sys.argv else 30.0
    main(int(sys.argv[1]), "garbage" in sys.argv[2:], fps)
