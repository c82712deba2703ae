"""Frame sources: the real clip as a file (paced like a camera, or as fast as possible, looped),
the same clip over HTTP as a stream, and clear errors for what cannot be opened."""

from __future__ import annotations

import http.server
import shutil
import threading
import time

import numpy as np
import pytest

from core.live.sources import FrameSource, SourceError, SourceSpec, list_cameras, parse_source
from tests.support.data import CLIP

CLIP_FRAMES = 275


def test_parse_source_tells_camera_url_and_file_apart():
    assert parse_source("0") == SourceSpec("camera", 0)
    assert parse_source(2) == SourceSpec("camera", 2)
    assert parse_source("rtsp://cam.local/stream") == SourceSpec("url", "rtsp://cam.local/stream")
    assert parse_source("http://10.0.0.5:8080/video") == SourceSpec("url", "http://10.0.0.5:8080/video")
    assert parse_source("clips/door.mp4") == SourceSpec("file", "clips/door.mp4")
    assert parse_source("file:///tmp/a.mp4") == SourceSpec("file", "/tmp/a.mp4")
    with pytest.raises(SourceError, match="no source given"):
        parse_source("  ")


def test_file_read_as_fast_as_possible_gives_every_frame_in_rgb():
    with FrameSource(CLIP, pace=False) as src:
        assert src.fps == pytest.approx(29.97, abs=0.01)
        frames = []
        while (frame := src.read()) is not None:
            frames.append(frame.index)
            if frame.index == 100:
                rgb = frame.rgb
        assert frames == list(range(CLIP_FRAMES))
    assert rgb.shape == (360, 640, 3) and rgb.dtype == np.uint8
    import cv2

    cap = cv2.VideoCapture(str(CLIP))
    cap.set(cv2.CAP_PROP_POS_FRAMES, 100)
    _, bgr = cap.read()
    cap.release()
    assert np.array_equal(rgb, bgr[:, :, ::-1])  # RGB, not OpenCV's BGR


def test_paced_file_keeps_native_time_and_drops_frames_when_the_reader_is_slow():
    with FrameSource(CLIP, pace=True) as src:
        started = time.monotonic()
        first = [src.read() for _ in range(15)]
        took = time.monotonic() - started
        assert 14 / 29.97 - 0.05 < took < 1.5  # waits for each frame's moment
        assert [f.index for f in first] == list(range(15))
        time.sleep(0.5)  # a busy reader: ~15 frame times pass
        late = src.read()
        assert late.index >= 15 + 10  # frames whose moment passed were skipped, as a camera does
        assert late.timestamp >= first[-1].timestamp + 0.5


def test_looping_file_starts_again_and_notices_when_it_is_gone(tmp_path):
    clip = tmp_path / "clip.mp4"
    shutil.copy(CLIP, clip)
    with FrameSource(clip, pace=False, loop=True) as src:
        indices = [src.read().index for _ in range(CLIP_FRAMES + 5)]
        assert indices[CLIP_FRAMES - 1 :] == [CLIP_FRAMES - 1, 0, 1, 2, 3, 4]
        clip.rename(tmp_path / "away.mp4")
        with pytest.raises(SourceError, match="no such video file"):
            for _ in range(CLIP_FRAMES):
                src.read()


def test_clear_errors_for_what_cannot_be_opened(tmp_path):
    with pytest.raises(SourceError, match="missing.mp4: no such video file"):
        FrameSource(tmp_path / "missing.mp4")
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"this is not a video" * 100)
    with pytest.raises(SourceError, match="junk.mp4: not a video file"):
        FrameSource(junk)
    absent = max(list_cameras(), default=-1) + 1
    with pytest.raises(SourceError, match=f"camera {absent}: not connected"):
        FrameSource(absent)
    started = time.monotonic()
    with pytest.raises(SourceError, match=r"http://127\.0\.0\.1:9/video: the stream does not answer"):
        FrameSource("http://127.0.0.1:9/video", timeout_ms=2000)
    assert time.monotonic() - started < 10


def test_list_cameras_matches_the_devices_present():
    import glob

    cams = list_cameras()
    assert all(isinstance(i, int) for i in cams)
    assert set(cams) <= {int(p[len("/dev/video") :]) for p in glob.glob("/dev/video*")}


class _MjpegStream(http.server.BaseHTTPRequestHandler):
    """What an IP camera sends: JPEG frames in one multipart HTTP response (here: the clip's)."""

    frames: list[bytes] = []

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
        self.end_headers()
        for jpeg in self.frames:
            self.wfile.write(
                b"--frame\r\nContent-Type: image/jpeg\r\n" + f"Content-Length: {len(jpeg)}\r\n\r\n".encode() + jpeg + b"\r\n"
            )
        self.wfile.flush()  # then the camera goes quiet: the stream has stopped sending

    def log_message(self, *args):
        pass


@pytest.fixture
def mjpeg_url():
    import cv2

    cap = cv2.VideoCapture(str(CLIP))
    frames = []
    while len(frames) < 60:
        ok, bgr = cap.read()
        frames.append(cv2.imencode(".jpg", bgr)[1].tobytes())
    cap.release()
    _MjpegStream.frames = frames
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _MjpegStream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/video.mjpg"
    server.shutdown()
    server.server_close()
    thread.join()


def test_stream_gives_frames_then_says_it_stopped(mjpeg_url):
    with FrameSource(mjpeg_url, timeout_ms=3000) as src:
        assert src.spec.kind == "url"
        n = 0
        with pytest.raises(SourceError, match="stopped sending video"):
            while True:
                frame = src.read()
                assert frame.rgb.shape == (360, 640, 3)
                n += 1
        assert n >= 55  # the demuxer may hold back the last frame or two
