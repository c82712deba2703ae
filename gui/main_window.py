"""FaceGate's window: the live video with names over faces, the people enrolled, and whatever
pages other features add (add_page). It shows what its Station (core.station) holds and decides,
and forwards clicks and choices to it; the frame loop runs on a VideoWorker thread, descriptors
in the recognizer's process. ``gallery_changed`` is the one "who is enrolled changed" signal,
fed by the station's GalleryWatch: a timer, and poll_gallery() right after a page's own write.
"""

from __future__ import annotations

import time
from collections import deque
from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QDockWidget, QFileDialog, QInputDialog, QLabel, QWidget

from core.errors import FaceGateError
from core.live.sources import SourceError, list_cameras, parse_source
from core.station import Station
from gui.admin_dialog import require_admin
from gui.door_pages import DoorPages
from gui.enroll_dialog import EnrollDialog
from gui.people_panel import PeoplePanel
from gui.settings_dialog import SOURCE_KEY, SettingsDialog, recent_sources, remember_source
from gui.shell import Shell
from gui.site_page import SitePages
from gui.tool_pages import ToolPages
from gui.video_view import VideoView
from gui.video_worker import ShownFrame, VideoWorker
from gui.widgets import VIDEO_FILTER

if TYPE_CHECKING:
    from PySide6.QtGui import QCloseEvent


class FrameRate:
    """Frames shown per second over the last ``span`` seconds: frames counted over time, as the
    heartbeat counts them. (1 / the gap between two frames, smoothed, jumped between 31 and 199
    when the GUI thread drew two queued frames back to back.)"""

    def __init__(self, span: float = 2.0) -> None:
        self.span = span
        self._times: deque[float] = deque()

    def shown(self, now: float) -> float:
        """Note a frame shown at ``now`` (time.monotonic()); the rate."""
        times = self._times
        times.append(now)
        while len(times) > 2 and now - times[0] > self.span:
            times.popleft()
        return (len(times) - 1) / (now - times[0]) if now > times[0] else 0.0


class MainWindow(Shell):
    """``pace``/``loop`` say how a video FILE plays: at its own speed and round again, like a
    camera (the default), or once as fast as possible (benchmarks)."""

    def __init__(
        self, station: Station, settings: QSettings, pace: bool = True, loop: bool = True, parent: QWidget | None = None
    ) -> None:
        super().__init__(station, parent)
        self.setWindowTitle("FaceGate")
        self.settings = settings
        self.pace, self.loop = pace, loop
        self.lockstep = False  # tests: each frame is shown before the next is processed (gui.video_worker)
        self.source = ""
        self.worker: VideoWorker | None = None
        self._retiring: list[VideoWorker] = []
        self.enroll_dialog: EnrollDialog | None = None
        self.last: ShownFrame | None = None
        self.rate = FrameRate()
        self.tool_pages: ToolPages | None = None
        self.door_pages: DoorPages | None = None
        self.site_pages: SitePages | None = None

        self.video = VideoView()
        self.video.face_clicked.connect(self.face_clicked)
        self.video.open_file_clicked.connect(self.choose_file)
        self.video.open_url_clicked.connect(self.choose_url)
        self.people = PeoplePanel(station.gallery)
        self.people.changed.connect(self.poll_gallery)
        self.gallery_changed.connect(self.people.reload)
        self.add_page("Live", self.video)
        self.add_page("People", self.people)
        self._build_menus()
        self.source_label, self.fps_label, self.latency_label = QLabel(), QLabel(), QLabel()
        for label in (self.source_label, self.fps_label, self.latency_label):
            self.statusBar().addPermanentWidget(label)
        self.resize(960, 640)

    # -- menus ----------------------------------------------------------------------------------
    def _build_menus(self) -> None:
        self.source_menu = self.menuBar().addMenu("&Source")
        self.source_menu.aboutToShow.connect(self._fill_source_menu)
        tools = self.menuBar().addMenu("&Tools")
        settings = QAction("&Settings…", self, shortcut=QKeySequence("Ctrl+,"))
        settings.triggered.connect(self.open_settings)
        tools.addAction(settings)
        # E is a key press the focused widget did not take (keyPressEvent), not a shortcut: Qt
        # tries shortcuts before the focused widget, and an E typed into a name must stay a letter
        enroll = QAction("&Enroll the face on screen\tE", self)
        enroll.triggered.connect(self.enroll_single_face)
        tools.addAction(enroll)

    def _fill_source_menu(self) -> None:
        menu = self.source_menu
        menu.clear()
        cameras = list_cameras()
        for index in cameras:
            menu.addAction(f"Camera {index}", partial(self.open_source, str(index)))
        if not cameras:
            menu.addAction("No camera found").setEnabled(False)
        menu.addSeparator()
        menu.addAction("Open a video file…", self.choose_file)
        menu.addAction("Open a URL…", self.choose_url)
        recent = [s for s in recent_sources(self.settings) if not s.isdigit()]
        if recent:
            menu.addSeparator()
            for source in recent:
                menu.addAction(source, partial(self.open_source, source))

    # -- sources --------------------------------------------------------------------------------
    def start(self, source: str | None = None) -> None:
        """Open the given source, else the last one used, else the first camera; with none,
        say so and offer a file or a URL."""
        source = source or str(self.settings.value(SOURCE_KEY, "") or "")
        if not source:
            cameras = list_cameras()
            source = str(cameras[0]) if cameras else ""
        if source:
            self.open_source(source)
        else:
            self.video.show_message("No camera found.\nOpen a video file or a camera's stream URL instead.", offer_sources=True)
            self.source_label.setText("no source")

    def open_source(self, source: str) -> None:
        try:
            spec = parse_source(source)
        except SourceError as exc:
            self.video.show_message(str(exc), offer_sources=True)
            return
        self._retire_worker()
        self.source = str(source)
        remember_source(self.settings, self.source)
        self.source_label.setText(str(spec))
        self.video.show_message(f"Opening {spec}…")
        worker = VideoWorker(self.recognizer, spec, pace=self.pace, loop=self.loop, lockstep=self.lockstep)
        worker.frame_ready.connect(self._show)
        worker.source_opened.connect(lambda what: self.statusBar().showMessage(f"Showing {what}", 4000))
        worker.source_failed.connect(self._source_failed)
        worker.finished_source.connect(
            lambda: self.video.show_message(f"{spec}: end of the video.", offer_sources=True, keep_picture=True)
        )
        self.worker = worker
        worker.start()

    def _retire_worker(self) -> None:
        """Stop the current worker without waiting here (a stream may take seconds to give up);
        close() waits for every one."""
        worker, self.worker = self.worker, None
        if worker is None:
            return
        worker.frame_ready.disconnect()
        worker.source_failed.disconnect()
        worker.finished_source.disconnect()
        worker.stop(wait_ms=0)
        self._retiring.append(worker)
        worker.finished.connect(lambda: self._retiring.remove(worker) if worker in self._retiring else None)

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a video file", "", VIDEO_FILTER)
        if path:
            self.open_source(path)

    def choose_url(self) -> None:
        url, ok = QInputDialog.getText(self, "Open a URL", "Stream URL (rtsp://, http://):", text="rtsp://")
        if ok and url.strip() not in ("", "rtsp://"):
            self.open_source(url.strip())

    def _source_failed(self, why: str, retry_in: float) -> None:
        self.video.show_message(f"{why}\nTrying again in {retry_in:g} s…" if retry_in > 0 else why, offer_sources=True)
        self.fps_label.setText("no video")

    # -- frames ---------------------------------------------------------------------------------
    def _show(self, shown: ShownFrame) -> None:
        worker = self.worker
        self.last = shown
        self.video.show_frame(shown.image, shown.result)
        self.fps_label.setText(f"{self.rate.shown(time.monotonic()):.1f} fps")
        self.latency_label.setText(f"latency {shown.latency_ms:.0f} ms (detect {shown.result.detect_ms:.0f})")
        for event in shown.result.events:
            self.statusBar().showMessage(event, 6000)
        if self.enroll_dialog is not None:
            self.enroll_dialog.show_progress(shown.result.enrollment)
        self.frame_shown.emit(shown)
        if worker is not None:  # taken, and what the pages did with it done (a lockstep worker goes on now)
            worker.shown()

    # -- enrolling ------------------------------------------------------------------------------
    def face_clicked(self, x: float, y: float) -> None:
        track_id = self.recognizer.track_at(x, y)
        if track_id is None:
            self.statusBar().showMessage("Click inside a face's box to enroll that face.", 4000)
            return
        self.enroll(track_id, (x, y))

    def enroll_single_face(self) -> None:
        tracks = self.last.result.tracks if self.last else []
        if len(tracks) != 1:
            self.statusBar().showMessage(
                f"E enrolls the face on screen when there is exactly one (there are {len(tracks)}); click a face instead.", 5000
            )
            return
        self.enroll(tracks[0].id, tracks[0].box.center)

    def enroll(self, track_id: int, at: tuple[float, float] | None = None) -> EnrollDialog | None:
        """Open the enroll panel for a tracked face, docked beside the video (never over the face)."""
        if not require_admin(self, "enroll a person"):
            return None
        if self.enroll_dialog is not None:
            self.enroll_dialog.reject()
        dialog = EnrollDialog(self.recognizer, track_id, self.people.names(), at=at)
        dialog.setWindowFlags(Qt.WindowType.Widget)  # a panel in the dock, not a window of its own
        dock = QDockWidget("Enroll this face", self)
        dock.setFeatures(QDockWidget.DockWidgetFeature.NoDockWidgetFeatures)
        dock.setWidget(dialog)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        dialog.finished.connect(lambda _: self._enroll_finished(dialog, dock))
        self.enroll_dialog = dialog
        self.tabs.setCurrentWidget(self.video)
        dialog.show()
        dock.show()
        dialog.name.setFocus()
        QTimer.singleShot(0, self.keep_on_screen)  # the panel widens the window: never past the screen's edge
        return dialog

    def _enroll_finished(self, dialog: EnrollDialog, dock: QDockWidget) -> None:
        if dialog.saved_name:
            self.poll_gallery()
            self.statusBar().showMessage(f"{dialog.saved_name} enrolled.", 6000)
        if self.enroll_dialog is dialog:
            self.enroll_dialog = None
        self.removeDockWidget(dock)
        dock.deleteLater()

    # -- settings -------------------------------------------------------------------------------
    def open_settings(self) -> None:
        if not require_admin(self, "change the settings"):
            return
        dialog = SettingsDialog(self.settings, self.station.settings, self.source, self)
        if dialog.exec():
            try:
                problems = self.station.apply(dialog.chosen())
            except (FaceGateError, ValueError) as exc:
                self.statusBar().showMessage(f"Settings not saved: {exc}", 10000)
                return
            if problems:
                self.statusBar().showMessage("; ".join(problems), 10000)
            source = dialog.source.currentText().strip()
            if source and source != self.source:
                self.open_source(source)

    # -- closing --------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop the capture threads and the descriptor process; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._gallery_timer.stop()
        if self.enroll_dialog is not None:
            self.enroll_dialog.reject()
        self._retire_worker()
        for worker in list(self._retiring):
            worker.stop()
        self._retiring.clear()
        self.people.shutdown()
        for pages in (self.tool_pages, self.door_pages, self.site_pages):
            if pages is not None:
                pages.shutdown()
        self.station.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """The window's letter keys act only on keys no focused widget took: a text field takes
        every letter typed into it, so they never act while one has the focus."""
        if event.key() == Qt.Key.Key_Escape and self.enroll_dialog is not None:
            self.enroll_dialog.reject()
            return
        if event.key() == Qt.Key.Key_E and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            self.enroll_single_face()
            return
        super().keyPressEvent(event)


def build_window(station: Station, settings: QSettings, **options: Any) -> MainWindow:
    """The window with every page (gui.app and the self-test both open it). Features with a page
    of their own add it here; each takes what it needs from the station, so their order only
    sets the order of the tabs."""
    window = MainWindow(station, settings, **options)
    window.tool_pages = ToolPages(window, station)  # Search, Video scan, Evaluate
    window.door_pages = DoorPages(window, station)  # Access log, Visitors, Recent faces, Door, door indicator
    window.site_pages = SitePages(window, station) if station.site is not None else None  # Site page, copy age
    station.start()  # the site's sync, if any
    return window
