"""`facegate --self-test`: prove an installed FaceGate works, end to end, on the machine it is on.

It opens the real window offscreen, plays the bundled demo clip through the real capture thread
and descriptor worker process, enrolls the face on screen the way an operator does (the enroll
dialog, a name, Start), then watches one more pass of the clip and checks that the person is
named and the stranger who follows is not. It prints what it saw and exits 0, or prints the
reason and exits 1. Everything it writes (gallery, settings) goes to a temporary folder, so the
user's own gallery is never touched. Installers and CI run it; it needs no camera, no network.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Qt is imported only once the platform is chosen (offscreen)
    from PySide6.QtWidgets import QApplication

    from core.live.loop import EnrollmentProgress, TrackView
    from gui.enroll_dialog import EnrollDialog
    from gui.main_window import MainWindow
    from gui.video_worker import ShownFrame

#: What the demo clip holds (resources/demo_clip.mp4, 275 frames at 30 fps): one face
#: (Lin-Manuel Miranda) large and steady around frame 125, alone on 140-205; a stranger alone on 215-248.
ENROLL_FROM = 125
PERSON_SHOT = range(140, 206)
STRANGER_SHOT = range(215, 249)
NAME = "Demo Person"
#: Shares of those frames that must be named / must not be named for the test to pass.
MIN_NAMED = 0.6
MIN_STRANGER_UNNAMED = 1.0
MAX_ENROLL_ATTEMPTS = 3


@dataclass
class Seen:
    """What the window showed on each frame of one pass of the clip: frame index -> labels."""

    labels: dict[int, list[str]] = field(default_factory=dict)

    def runs(self) -> list[tuple[int, int, str]]:
        """(first, last, labels) for each stretch of frames that showed the same labels."""
        out: list[tuple[int, int, str]] = []
        for index in sorted(self.labels):
            text = ", ".join(sorted(self.labels[index])) or "no face"
            if out and out[-1][2] == text and index - out[-1][1] <= 3:
                out[-1] = (out[-1][0], index, text)
            else:
                out.append((index, index, text))
        return out

    def share(self, frames: range, named: bool) -> tuple[int, int]:
        """(frames shown in ``frames`` whose labels include NAME == named, frames shown there)."""
        shown = [i for i in frames if i in self.labels]
        return sum((NAME in self.labels[i]) == named for i in shown), len(shown)


class SelfTest:
    """Drives the window from its frame_shown signal: enroll once, then judge the next pass."""

    def __init__(self, window: MainWindow, app: QApplication, clip: Path, timeout: float) -> None:
        self.window, self.app, self.clip = window, app, clip
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout
        self.state = "waiting for a face"
        self.attempts = 0
        self.dialog: EnrollDialog | None = None
        self.last_index = -1
        self.judged = Seen()
        self.door: dict[int, str] = {}  # track -> the door's final verdict on it (shown, not judged here)
        self.result: int | None = None
        self.reason = ""
        window.frame_shown.connect(self.on_frame)

    def fail(self, reason: str) -> None:
        if self.result is None:
            self.result, self.reason = 1, reason

    def play(self) -> None:
        """Play the clip from its start, as the window plays any video file."""
        self.window.open_source(str(self.clip))
        worker = self.window.worker
        if worker is None:
            self.fail(f"the demo clip does not play: {self.window.video.message()}")
            return

        def stopped() -> None:
            if self.window.worker is worker:  # not a worker replaced by the next play
                self.fail(f"the capture thread stopped at frame {self.last_index} while {self.state} (its error is above)")

        worker.source_failed.connect(lambda why, _: self.fail(f"the demo clip does not play: {why}"))
        worker.finished.connect(stopped)

    def on_frame(self, shown: ShownFrame) -> None:
        if self.result is not None:
            return
        index = shown.source_index
        self.last_index = index
        tracks = shown.result.tracks
        for event in shown.result.events:
            print(f"self-test: event at frame {index}: {event}", flush=True)
        if self.state == "waiting for a face" and index >= ENROLL_FROM:
            self.start_enrollment(tracks, index)
        elif self.state == "enrolling":
            self.follow_enrollment(shown.result.enrollment, index)
        elif self.state == "replaying" and index < ENROLL_FROM // 2:
            self.state = "judging"  # the first frame of the replay (not one the old pass had queued)
        if self.state == "judging":
            if index >= STRANGER_SHOT.stop - 1 or index < max(self.judged.labels, default=0):
                self.verdict()
            else:
                self.judged.labels[index] = [t.label for t in tracks]
                for t in tracks:
                    d = t.decision
                    if d is not None and getattr(d, "final", False) and t.id not in self.door:
                        self.door[t.id] = f"frame {index}: {d.person or 'unknown face'} -> {d.verdict} ({d.reason})"

    def start_enrollment(self, tracks: list[TrackView], index: int) -> None:
        faces = [t for t in tracks if t.state != "pending"]
        if len(faces) != 1 or index >= PERSON_SHOT.stop:
            return
        from PySide6.QtWidgets import QDialogButtonBox

        self.attempts += 1
        print(
            f"self-test: enrolling the face at frame {index} (box {faces[0].box.width} px, "
            f"shown as {faces[0].label!r}) as {NAME!r}, attempt {self.attempts}",
            flush=True,
        )
        self.dialog = dialog = self.window.enroll(faces[0].id)
        if dialog is None:
            self.fail("the enroll dialog did not open")
            return
        dialog.name.setCurrentText(NAME)
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
        if not dialog.started:
            self.fail(f"the enroll dialog did not start: {dialog.status.text()}")
            return
        self.state = "enrolling"

    def follow_enrollment(self, progress: EnrollmentProgress | None, index: int) -> None:
        if progress is None:
            return
        if progress.error:
            print(f"self-test: enrollment attempt {self.attempts} failed: {progress.error}", flush=True)
            if self.dialog is not None:
                self.dialog.reject()
            if self.attempts >= MAX_ENROLL_ATTEMPTS:
                self.fail(f"enrollment failed {self.attempts} times; last: {progress.error}")
            self.state = "waiting for a face"
        elif progress.done:
            person = next((p for p in self.window.gallery.people() if p.name == NAME), None)
            if person is None:
                self.fail(f"enrollment said done but {NAME!r} is not in the gallery")
                return
            print(
                f"self-test: enrolled {NAME!r} with {person.sample_count} samples at frame {index}"
                + (f" (warning: {progress.warning})" if progress.warning else "")
                + "; replaying the clip",
                flush=True,
            )
            self.state = "replaying"
            self.play()

    def verdict(self) -> None:
        print("self-test: what the window showed when the clip was played again:", flush=True)
        for first, last, text in self.judged.runs():
            print(f"self-test:   frames {first:3d}-{last:3d}: {text}", flush=True)
        for verdict in self.door.values():
            print(f"self-test: door decision at {verdict}", flush=True)
        named, shown = self.judged.share(PERSON_SHOT, named=True)
        unnamed, stranger = self.judged.share(STRANGER_SHOT, named=False)
        print(
            f"self-test: {NAME} named on {named} of {shown} frames shown of {PERSON_SHOT.start}-"
            f"{PERSON_SHOT.stop - 1}; stranger not named on {unnamed} of {stranger} frames shown of "
            f"{STRANGER_SHOT.start}-{STRANGER_SHOT.stop - 1}",
            flush=True,
        )
        if shown < len(PERSON_SHOT) // 2 or stranger < len(STRANGER_SHOT) // 2:
            self.fail(
                f"the window showed too few frames ({shown} of {len(PERSON_SHOT)}, {stranger} of "
                f"{len(STRANGER_SHOT)}): the machine is too slow or the video stalled"
            )
        elif named < MIN_NAMED * shown:
            self.fail(f"{NAME} was named on only {named} of {shown} frames after enrolling")
        elif unnamed < MIN_STRANGER_UNNAMED * stranger:
            self.fail(f"the stranger was called {NAME} on {stranger - unnamed} of {stranger} frames")
        else:
            self.result = 0

    def wait(self) -> int:
        """Run the event loop until a verdict, a failed source or the deadline."""
        while self.result is None:
            self.app.processEvents()
            if time.monotonic() > self.deadline:
                self.fail(f"timed out after {self.timeout:.0f} s while {self.state} (at frame {self.last_index})")
            worker_error = self.window.recognizer.descriptor_worker.error
            if worker_error:
                self.fail(worker_error)
            time.sleep(0.005)
        return self.result


def run(timeout: float = 120.0) -> int:
    """The self-test; returns the process exit status (0 = passed)."""
    from core.paths import resource_path

    for stream in (sys.stdout, sys.stderr):  # labels and reasons hold "…", "≤": never die on a narrow console
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    started = time.monotonic()
    clip = resource_path("demo_clip.mp4")
    if not clip.is_file():
        print(f"self-test: FAIL: the demo clip is missing: {clip}", file=sys.stderr, flush=True)
        return 1
    with tempfile.TemporaryDirectory(prefix="facegate-self-test-") as tmp:
        try:
            status = _run_window(clip, Path(tmp), timeout)
        except Exception as exc:  # any failure is the answer: say what it was
            print(f"self-test: FAIL: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
            return 1
    print(f"self-test: {'PASS' if status == 0 else 'FAIL'} in {time.monotonic() - started:.1f} s", flush=True)
    return status


def check_files() -> None:
    """Say where the model files are (the dlib models, the YuNet detector the window detects with,
    the Haar cascade, the screen and print check's model); ModelError (the self-test's answer) when any is missing or unreadable."""
    from core.vision.models import check_models

    models = check_models()
    print(
        f"self-test: {len(models.files)} dlib models ({models.megabytes:.0f} MB) in {models.folder}; Haar cascade "
        f"{models.haar_cascade}",
        flush=True,
    )
    print(f"self-test: YuNet face detector {models.yunet} (licence: {models.yunet.with_name('LICENSE')})", flush=True)
    print(f"self-test: screen and print model {models.texture} (licence: {models.texture.with_name('LICENSE')})", flush=True)


def _run_window(clip: Path, tmp: Path, timeout: float) -> int:
    if "QT_QPA_PLATFORM" not in os.environ:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtCore import QSettings

    from core.gallery.api import Gallery
    from core.station import Station
    from gui.main_window import build_window
    from gui.widgets import application

    app = application()
    frozen = "frozen (PyInstaller)" if getattr(sys, "frozen", False) else "from source"
    print(f"self-test: FaceGate {frozen}, Qt platform {app.platformName()}", flush=True)
    check_files()
    gallery = Gallery(tmp / "gallery.db")
    station = Station(gallery)  # the door the app builds, its settings the new gallery's defaults
    recognizer = station.recognizer
    print(f"self-test: detecting with {recognizer.detector.settings.method}, every frame", flush=True)
    # pace=False: every frame of the clip is processed and judged, however fast this machine is.
    window = build_window(station, QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat), pace=False, loop=True)
    try:
        window.show()
        print(
            f"self-test: window shown ({window.width()}x{window.height()}), descriptor worker pid "
            f"{recognizer.descriptor_worker.pid} (this process {os.getpid()}), playing {clip}",
            flush=True,
        )
        test = SelfTest(window, app, clip, timeout)
        test.play()
        status = test.wait()
        if status != 0:
            print(f"self-test: FAIL: {test.reason}", file=sys.stderr, flush=True)
        return status
    finally:
        window.shutdown()
        window.close()
        station.close()
        gallery.close()
