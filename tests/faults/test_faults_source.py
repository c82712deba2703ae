"""A network camera that sends garbage frames, dies, and hangs, in the real window: the window
stays responsive (its event loop never stalls), the camera is reopened each time it comes back,
garbled frames cost no reconnect, and memory does not grow over the cycles.

The camera is tests/mjpeg_server.py, a real HTTP MJPEG server in its own process: SIGKILL is
the camera dying, SIGSTOP a camera that hangs with the connection open."""

from __future__ import annotations

import time

import psutil

from tests.support.camera import Camera, free_port
from tests.support.window import LoopWatch

CYCLES = 3


def _rss_mb() -> float:
    me = psutil.Process()
    return sum(p.memory_info().rss for p in [me, *me.children(recursive=True)]) / 1e6


def test_a_camera_that_sends_garbage_dies_and_hangs(qtbot, live_window):
    window, recording = live_window
    camera = Camera(free_port())
    camera.start(qtbot)
    failures: list[str] = []
    opened: list[str] = []
    try:
        window.open_source(camera.url)
        window.worker.source_failed.connect(lambda why, pause: failures.append(why))
        window.worker.source_opened.connect(opened.append)
        shown = []
        window.frame_shown.connect(lambda f: shown.append(time.monotonic()))

        def frames_resume(count=15, timeout=40_000) -> None:
            start = len(shown)
            qtbot.waitUntil(lambda: len(shown) >= start + count, timeout=timeout)

        frames_resume(45)  # 1 part in 3 is garbage: random bytes, a cut JPEG, a 16x16 picture
        assert failures == [], "garbled frames cost a reconnect"
        watch = LoopWatch()
        baseline = None
        events = []
        for cycle in range(CYCLES + 1):
            camera.die()
            qtbot.waitUntil(lambda: "Trying again" in window.video.message(), timeout=20_000)
            events.append(window.video.message().splitlines()[0])
            qtbot.wait(800)  # it keeps retrying; the window keeps serving events
            camera.start(qtbot)
            frames_resume()
            camera.hang()
            seen = len(failures)
            qtbot.waitUntil(lambda seen=seen: len(failures) > seen, timeout=30_000)  # noticed within the timeout
            events.append(failures[-1])
            camera.resume()
            frames_resume()
            if cycle == 0:  # the first cycle warms up (decoder, buffers): measure from here
                baseline = _rss_mb()
                watch.worst = 0.0
        growth = _rss_mb() - baseline
        print(
            f"\ncamera died and hung {CYCLES + 1} times each (garbage frames throughout): "
            f"{len(opened)} reopens, {len(shown)} frames shown, event loop stalled at most "
            f"{watch.worst * 1000:.0f} ms, memory {baseline:.0f} MB -> {baseline + growth:.0f} MB "
            f"({100 * growth / baseline:+.1f} % over {CYCLES} cycles)"
        )
        print("  " + "\n  ".join(sorted(set(events))))
        assert len(opened) >= 2 * CYCLES + 2
        assert watch.worst < 0.5, f"the window froze for {watch.worst * 1000:.0f} ms"
        assert growth < 0.03 * baseline, f"memory grew {growth:.0f} MB"
        watch.timer.stop()
    finally:
        camera.stop()


def test_the_source_menu_opens_a_url_and_remembers_it(qtbot, live_window):
    """Source ▸ Open a URL… with a network camera's address: its frames are shown and named
    sources are offered again in the menu afterwards."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QInputDialog

    window, recording = live_window
    camera = Camera(free_port(), garbage=False)
    camera.start(qtbot)
    try:

        def type_url():
            dialog = QApplication.activeModalWidget()
            if not isinstance(dialog, QInputDialog):
                QTimer.singleShot(20, type_url)
                return
            dialog.setTextValue(camera.url)
            dialog.accept()

        window.source_menu.aboutToShow.emit()  # what opening the menu does
        (open_url,) = [a for a in window.source_menu.actions() if a.text() == "Open a URL…"]
        QTimer.singleShot(0, type_url)
        open_url.trigger()
        qtbot.waitUntil(lambda: len(recording.frames) >= 10, timeout=60_000)
        assert window.source == camera.url and window.source_label.text() == camera.url
        window.source_menu.aboutToShow.emit()
        assert camera.url in [a.text() for a in window.source_menu.actions()]
    finally:
        camera.stop()
