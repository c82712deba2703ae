"""The window's frame that every page controller joins: the Station it shows, the tabs, the two
signals pages follow (each frame shown; "the gallery changed", fed by the station's
GalleryWatch), and the admin session. gui.main_window.MainWindow is the one Shell; the page
controllers (gui.door_pages, gui.tool_pages, gui.site_page) and gui.admin_dialog take a Shell,
typed, so they need neither the whole window nor each other (and no import cycle).
"""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QDialog, QFrame, QMainWindow, QScrollArea, QTabWidget, QWidget

from core.gallery.admin import AdminSession
from core.station import Station
from gui.video_view import VideoView

#: How often (ms) the window looks whether someone else changed who is enrolled (a learning-mode
#: sample, the site's sync): one small read; its own pages poll at once after they write.
GALLERY_POLL_MS = 500


class Shell(QMainWindow):
    frame_shown = Signal(object)  # every ShownFrame, after it is drawn (for other pages, tests)
    gallery_changed = Signal()  # people, samples or "not this person" marks changed (any writer)
    video: VideoView  # the live picture (MainWindow makes it): what overlays such as the PIN keypad cover

    def __init__(self, station: Station, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.station = station
        self.gallery = station.gallery
        self.recognizer = station.recognizer
        self.admin: AdminSession | None = None  # gui.admin_dialog.install_admin
        self.first_pin_dialog: QDialog | None = None
        self._closed = False
        station.watch.subscribe(self.gallery_changed.emit)
        self._gallery_timer = QTimer(self, interval=GALLERY_POLL_MS)
        self._gallery_timer.timeout.connect(self.poll_gallery)
        self._gallery_timer.start()
        self.tabs = QTabWidget()
        self.setCentralWidget(self.tabs)

    def add_page(self, title: str, widget: QWidget, scroll: bool = False) -> int:
        """Add a tab; other features (door log, search, scan, evaluate) add theirs this way.
        ``scroll``: a page wider or taller than a small window (the Door page's three columns
        of forms) scrolls inside its tab rather than making the whole window that big."""
        if scroll:
            area = QScrollArea()
            area.setWidgetResizable(True)
            area.setFrameShape(QFrame.Shape.NoFrame)
            area.setWidget(widget)
            widget = area
        return self.tabs.addTab(widget, title)

    def keep_on_screen(self) -> None:
        """Move (and if need be shrink) a window that is not maximised back inside its screen's
        free area, after something made it wider (a docked panel)."""
        screen = self.screen()
        if screen is None or self.isMaximized() or self.isFullScreen():
            return
        free = screen.availableGeometry()
        frame = self.frameGeometry()
        extra_w, extra_h = frame.width() - self.width(), frame.height() - self.height()
        width, height = min(frame.width(), free.width()), min(frame.height(), free.height())
        x = min(max(frame.x(), free.x()), free.right() + 1 - width)
        y = min(max(frame.y(), free.y()), free.bottom() + 1 - height)
        if (x, y, width, height) != (frame.x(), frame.y(), frame.width(), frame.height()):
            self.move(x, y)
            self.resize(width - extra_w, height - extra_h)

    def poll_gallery(self) -> None:
        """Emit gallery_changed now if who is enrolled moved (after the live loop re-read it)."""
        if not self._closed:
            self.station.watch.poll()
