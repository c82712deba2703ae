"""Enrollment in the real window (offscreen) with the clip as a 30 fps and a 12 fps camera, before
and after re-acquisition (prints figures; never a timed test).

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/enroll_window_bench.py [--clicks 100 130 160 190]

The 12 fps camera is the clip re-encoded at 12 frames a second (every 2.5th frame, at 1/12 s):
what the window gets from a camera on a machine that manages 12 fps. Each file plays paced and
looping, as a camera, in the window the app opens (build_window, the descriptor worker process).
At each click moment (a frame of the clip, counted at 30 fps) Lin-Manuel's face is clicked and
enrolled through the enroll panel, exactly as an operator does; the outcome is read from the panel
within 20 s: saved (5 samples), offered (he left with 3-4: "Save the N samples taken"), or failed.
"Before" is the old rule, emulated with the live settings: no re-acquisition (enroll_rejoin 0) and
failing as soon as the face leaves (enroll_wait 0, enroll_min_keep above the 5 samples).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BEFORE = {"enroll_rejoin": 0.0, "enroll_wait": 0.0, "enroll_min_keep": 99}
AFTER = {"enroll_rejoin": 0.5, "enroll_wait": 5.0, "enroll_min_keep": 3}


def camera_file(folder: Path, fps: float) -> Path:
    """The clip as a camera running at ``fps`` (frames dropped, as a slow machine drops them)."""
    import cv2

    from tests.support.data import clip_frames

    clip = clip_frames()
    path = folder / f"clip_{fps:g}fps.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (640, 360))
    n = 0
    while round(n * 30 / fps) < len(clip):
        writer.write(cv2.cvtColor(clip[round(n * 30 / fps)], cv2.COLOR_RGB2BGR))
        n += 1
    writer.release()
    return path


def trial(app, window, video: Path, fps: float, click: int, rules: dict) -> str:
    gallery = window.gallery
    if gallery.store.find_person("Lin-Manuel"):
        gallery.remove("Lin-Manuel")
    window.recognizer.update_settings(**rules)
    window.recognizer.refresh()
    clicked: list = []
    opened: list = []  # frames of the last trial's source may still be on their way: not those

    def click_him(shown) -> None:
        big = [t for t in shown.result.tracks if t.box.width >= 70]
        if opened and not clicked and shown.source_index * 30 / fps >= click and big:
            clicked.append(shown.source_index)
            window.face_clicked(*big[0].box.center)
            window.enroll_dialog.name.setCurrentText("Lin-Manuel")
            window.enroll_dialog.start()

    window.frame_shown.connect(click_him)
    window.open_source(str(video))
    assert window.worker is not None
    window.worker.source_opened.connect(lambda _spec: opened.append(True))
    deadline = time.monotonic() + 60
    while not clicked and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.005)
    window.frame_shown.disconnect(click_him)
    dialog = window.enroll_dialog
    if not clicked or dialog is None:
        return "never clicked"
    end = time.monotonic() + 20
    outcome = "failed"
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.005)
        if dialog.saved_name:
            outcome = "saved"
            break
        if not dialog.started:
            break
        if dialog.save.isVisible():
            outcome = "offered"  # the operator may save now; a while longer he may come back
    if outcome == "failed":
        outcome = f"failed ({dialog.status.text()})"
    if window.enroll_dialog is not None:
        window.enroll_dialog.reject()
    app.processEvents()
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clicks", type=int, nargs="+", default=[100, 130, 160, 190])
    parser.add_argument("--fps", type=float, nargs="+", default=[30.0, 12.0])
    args = parser.parse_args()
    from PySide6.QtCore import QSettings

    from core.gallery.api import Gallery
    from core.station import Station
    from gui.main_window import build_window
    from gui.widgets import application

    app = application()
    with tempfile.TemporaryDirectory() as folder:
        gallery = Gallery(Path(folder) / "gallery.db")
        window = build_window(
            Station(gallery), QSettings(str(Path(folder) / "facegate.ini"), QSettings.Format.IniFormat), pace=True, loop=True
        )
        window.show()
        try:
            for fps in args.fps:
                video = camera_file(Path(folder), fps)
                for name, rules in (("before", BEFORE), ("after", AFTER)):
                    outcomes = [trial(app, window, video, fps, click, rules) for click in args.clicks]
                    counts = Counter(o.split(" (")[0] for o in outcomes)
                    print(
                        f"{fps:>4g} fps {name:<6}: {counts['saved'] + counts['offered']} of {len(outcomes)} saved or "
                        f"offered ({counts['saved']} saved, {counts['offered']} offered, {counts['failed']} failed) - "
                        f"clicks at {args.clicks}: {', '.join(outcomes)}",
                        flush=True,
                    )
        finally:
            window.close()
            gallery.close()


if __name__ == "__main__":
    main()
