"""Sources in the window: a source that fails says so in the window, the window stays responsive,
and the source is reopened with growing pauses until it is back; with no camera the window still
opens and offers a file or a URL in one click."""

from __future__ import annotations

import cv2
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QFileDialog

from core.live.sources import FrameSource
from tests.support.data import CLIP
from tests.support.window import LoopWatch


def _short_clip(path, first=140, count=20):
    """A real video file of a few frames of the clip (Lin-Manuel Miranda's face), so a lap is short."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30, (640, 360))
    with FrameSource(CLIP, pace=False) as src:
        while (frame := src.read()) is not None and frame.index < first + count:
            if frame.index >= first:
                writer.write(cv2.cvtColor(frame.rgb, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def test_a_file_moved_away_is_reported_retried_and_resumed(qtbot, live_window, tmp_path):
    window, recording = live_window
    clip = _short_clip(tmp_path / "door.avi")
    window.loop = True
    failures = []
    window.open_source(str(clip))
    window.worker.source_failed.connect(lambda why, pause: failures.append((why, pause)))
    qtbot.waitUntil(lambda: len(recording.frames) >= 10, timeout=60_000)
    assert window.video.message() == ""

    clip.rename(tmp_path / "elsewhere.avi")  # the "camera" goes away
    qtbot.waitUntil(lambda: len(failures) >= 3, timeout=30_000)
    assert "door.avi: no such video file" in window.video.message()
    assert "Trying again in" in window.video.message()
    assert [pause for _, pause in failures[:3]] == [0.5, 1.0, 2.0]  # backing off
    watch = LoopWatch()
    qtbot.wait(500)  # the window keeps serving events while the source is gone
    assert watch.worst < 0.2, f"event loop stalled {watch.worst * 1000:.0f} ms"
    window.tabs.setCurrentIndex(1)
    assert window.tabs.currentWidget() is window.people
    window.tabs.setCurrentIndex(0)

    recording.frames.clear()
    (tmp_path / "elsewhere.avi").rename(clip)  # back
    qtbot.waitUntil(lambda: len(recording.frames) >= 5, timeout=30_000)
    assert window.video.message() == ""
    assert any(tracks for tracks in recording.frames.values())  # boxes again
    watch.timer.stop()


def test_no_camera_says_so_and_opens_a_file_in_one_click(qtbot, live_window):
    window, recording = live_window
    window.start()  # no source remembered, and this machine has no camera
    assert "No camera found" in window.video.message()
    assert window.video.open_file_button.isVisible() and window.video.open_url_button.isVisible()

    def pick_clip():
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, QFileDialog):
            QTimer.singleShot(20, pick_clip)
            return
        dialog.selectFile(str(CLIP))
        dialog.accept()

    QTimer.singleShot(0, pick_clip)
    window.video.open_file_button.click()
    qtbot.waitUntil(lambda: len(recording.frames) >= 3, timeout=60_000)
    assert window.source == str(CLIP)
    assert window.settings.value("source/last") == str(CLIP)  # remembered for the next start
    assert window.source_label.text() == str(CLIP)


def test_an_unanswering_url_is_reported_without_freezing(qtbot, live_window):
    window, _ = live_window
    watch = LoopWatch()
    window.open_source("http://127.0.0.1:9/video")
    qtbot.waitUntil(lambda: "the stream does not answer" in window.video.message(), timeout=30_000)
    assert "Trying again" in window.video.message()
    assert watch.worst < 0.2
    watch.timer.stop()


def test_frames_that_fail_recognition_are_skipped_said_once_and_the_video_goes_on(qtbot, live_window, caplog):
    """Ten frames in a row raise inside recognition (a fault injected around the real
    recognizer): the window says so once, logs it once, and later frames are recognised."""
    import logging

    window, recording = live_window
    real = window.recognizer.process
    calls = {"n": 0}

    def failing_for_a_while(rgb, timestamp):
        calls["n"] += 1
        if 20 <= calls["n"] < 30:  # well after the signal below is connected
            raise RuntimeError("injected fault")
        return real(rgb, timestamp)

    window.recognizer.process = failing_for_a_while
    said = []
    with caplog.at_level(logging.INFO, logger="facegate.video"):
        window.open_source(str(CLIP))
        window.worker.source_failed.connect(lambda why, _: said.append(why))
        qtbot.waitUntil(lambda: len(recording.frames) >= 40, timeout=90_000)
    assert said == ["recognition failed on a frame (injected fault); continuing"]
    assert "Trying again" not in window.video.message()
    records = [r.getMessage() for r in caplog.records if r.name == "facegate.video"]
    assert records == ["recognition failed on frame 19", "recognition works again after 10 failed frames"]
    assert not any(i in recording.frames for i in range(19, 29)) and 29 in recording.frames
