"""Kiosk mode (`facegate --kiosk`): the window as the door's unattended screen.

- Full screen on the chosen screen, no window decorations, kept on top; the window manager's
  attempts to shrink or minimise it are undone.
- Door mode (the default): the live view alone, names and the door state in letters readable
  from two metres (text_px), no menus, no tabs; taps on faces do nothing (a visitor must not
  start an enrollment), the source buttons over a missing video ask for the admin PIN.
- Admin mode: the admin PIN (F12, or a tap in the top-left corner) brings back the menus and
  every page while the admin session lasts (5 minutes, or until Admin > Lock now); then the
  window returns to door mode by itself. Kiosk > Quit FaceGate leaves for good.
- Nothing closes it without the PIN: close events (Alt+F4, the window manager's close button or
  WM_DELETE_WINDOW) are refused and Escape is swallowed. leave() is the only way out: the admin's
  quit, or the service manager's SIGTERM (gui.supervision).
- The screen never blanks while it runs (core.service.awake).

The close guard is an event filter on the window: a refused close never reaches the window's
closeEvent, which shuts the station (and the door) down.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeyEvent, QKeySequence, QMouseEvent, QScreen, QShortcut
from PySide6.QtWidgets import QDialog, QLabel

from core.service.awake import ScreenAwake
from core.service.unit import ADMIN_QUIT_STATUS
from gui.admin_dialog import AdminDialog, require_admin

if TYPE_CHECKING:
    from gui.main_window import MainWindow

log = logging.getLogger("facegate.kiosk")

ADMIN_KEY = "F12"
#: Capital letters this tall (mm) read from two metres: about 20 minutes of arc, three to four
#: times what normal sight resolves, comfortable at a glance.
LETTER_MM = 12.0
CAP_HEIGHT = 0.7  # a capital letter's height as a share of the font's pixel size
CORNER_SHARE = 0.08  # the admin corner: this share of the screen's shorter side
PIN_DIALOG_SECONDS = 60


def text_px(screen: QScreen) -> int:
    """A font pixel size whose capitals are LETTER_MM tall on this screen (from its physical
    resolution), and never under 1/22 of its height (screens that report no size)."""
    dpi = screen.physicalDotsPerInchY() or 96.0
    return max(round(LETTER_MM / 25.4 * dpi / CAP_HEIGHT), screen.geometry().height() // 22)


def pick_screen(choice: str | None) -> QScreen:
    """The screen named or numbered by ``choice`` (``--screen``); the primary one by default."""
    screens = QGuiApplication.screens()
    if choice:
        for index, screen in enumerate(screens):
            if choice in (str(index), screen.name()):
                return screen
        log.warning(
            "no screen %r (there are %s); using the primary one",
            choice,
            ", ".join(f"{i}: {s.name()}" for i, s in enumerate(screens)),
        )
    return QGuiApplication.primaryScreen()


class Kiosk(QObject):
    """Make a built MainWindow (gui.main_window.build_window) the door's kiosk; show() it. The app ends
    when ``left`` says so (gui.app connects it to QApplication.exit) and only then: the app must
    not quit when its last window closes (setQuitOnLastWindowClosed(False))."""

    left = Signal(int)  # the exit status: 0, or ADMIN_QUIT_STATUS when the admin quit

    def __init__(self, window: MainWindow, screen: str | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.screen = pick_screen(screen)
        self.mode = "kiosk"
        self._leaving = False
        self.awake = ScreenAwake(x11=QGuiApplication.platformName() == "xcb")
        self.px = text_px(self.screen)
        window.setWindowFlags(window.windowFlags() | Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnTopHint)
        window.video.set_text_size(self.px)
        window.statusBar().setStyleSheet(f"QLabel {{ font-size: {self.px}px; font-weight: bold; }}")
        # the kiosk's own words, in its letters, across the top of the picture, wrapped to the
        # screen's width (in the status bar they were cut off beside the door state)
        self.notice = QLabel(window.video, wordWrap=True, alignment=Qt.AlignmentFlag.AlignCenter)
        self.notice.setStyleSheet(
            f"background: rgba(0, 0, 0, 170); color: white; font-size: {self.px}px; font-weight: bold; padding: 8px;"
        )
        self.notice.hide()
        if window.door_pages is not None:  # the PIN keypad, as big as the kiosk's letters
            window.door_pages.keypad.set_text_size(self.px)
        self._notice_timer = QTimer(self, singleShot=True)
        self._notice_timer.timeout.connect(self.notice.hide)
        self._gate_source_buttons()
        menu = window.menuBar().addMenu("&Kiosk")
        back = QAction("&Back to the door screen", window, shortcut=QKeySequence("Ctrl+D"))
        back.triggered.connect(self.door_mode)
        menu.addAction(back)
        menu.addAction("&Quit FaceGate…", self.quit)
        QShortcut(QKeySequence(ADMIN_KEY), window, self.open_admin, context=Qt.ShortcutContext.ApplicationShortcut)
        window.video.installEventFilter(self)
        window.installEventFilter(self)
        self._admin_watch = QTimer(self, interval=1000)
        self._admin_watch.timeout.connect(self._check_admin)
        self._admin_watch.start()
        self.door_mode()

    # -- showing ----------------------------------------------------------------------------------
    def show(self) -> None:
        window = self.window
        window.setGeometry(self.screen.geometry())
        window.winId()  # the native window exists, so it can be put on the chosen screen
        window.windowHandle().setScreen(self.screen)
        window.showFullScreen()
        self.awake.start()

    def say(self, text: str, ms: int) -> None:
        """A message in the kiosk's letters over the top of the picture for ``ms`` milliseconds."""
        width = self.window.video.width()
        self.notice.setText(text)
        self.notice.setGeometry(0, 0, width, self.notice.heightForWidth(width))
        self.notice.show()
        self.notice.raise_()
        self._notice_timer.start(ms)

    def on_screen(self) -> bool:
        """The kiosk window is mapped and exposed (not closed or unmapped by someone else, not
        minimised); the health monitor restarts a kiosk that stays off the screen."""
        w = self.window
        handle = w.windowHandle()
        return (
            w.isVisible()
            and not w.isMinimized()
            and handle is not None
            and (handle.isExposed() or QGuiApplication.platformName() == "offscreen")
        )

    def _fill_screen(self) -> None:
        if not self._leaving and not self.window.isFullScreen():
            log.info("the window left full screen; filling the screen again")
            self.window.showFullScreen()

    def door_mode(self) -> None:
        """The live view only, names and door state large; back here when the admin session ends."""
        w = self.window
        self.mode = "kiosk"
        w.menuBar().hide()
        w.tabs.tabBar().hide()
        w.tabs.setCurrentIndex(0)
        for label in (w.source_label, w.fps_label, w.latency_label):
            label.hide()

    def admin_mode(self) -> None:
        w = self.window
        self.mode = "kiosk admin"
        w.menuBar().show()
        w.tabs.tabBar().show()
        for label in (w.source_label, w.fps_label, w.latency_label):
            label.show()
        w.statusBar().showMessage(
            f"Admin pages open until the admin session ends (Admin > Lock now); "
            f"{ADMIN_KEY} again or Kiosk > Back returns to the door screen",
            8000,
        )

    def _check_admin(self) -> None:
        session = self.window.admin
        if self.mode == "kiosk admin" and (session is None or not session.unlocked()):
            self.door_mode()

    # -- the PIN ------------------------------------------------------------------------------------
    def open_admin(self) -> bool:
        """Ask for the admin PIN (F12 or the corner); the admin pages when it is right."""
        if self.mode == "kiosk admin":
            self.door_mode()
            return False
        session = self.window.admin
        if session is None:
            return False
        if not session.unlocked():
            # never "choose a PIN" here (gui.app refuses a kiosk without one): the person at the door is nobody's admin
            dialog = AdminDialog(session, "open the admin pages", parent=self.window)
            QTimer.singleShot(PIN_DIALOG_SECONDS * 1000, dialog.reject)  # a stray tap does not leave it up
            accepted = dialog.exec() == QDialog.DialogCode.Accepted
            dialog.deleteLater()
            if not accepted:
                return False
        self.admin_mode()
        return True

    def _gate_source_buttons(self) -> None:
        video, window = self.window.video, self.window
        video.open_file_clicked.disconnect(window.choose_file)
        video.open_url_clicked.disconnect(window.choose_url)
        video.open_file_clicked.connect(lambda: self._as_admin(window.choose_file))
        video.open_url_clicked.connect(lambda: self._as_admin(window.choose_url))

    def _as_admin(self, choose: Callable[[], None]) -> None:
        if require_admin(self.window, "choose the video source"):
            choose()

    # -- leaving ------------------------------------------------------------------------------------
    def quit(self) -> None:
        """Kiosk > Quit FaceGate: with the PIN, close for good (the service does not restart it)."""
        if require_admin(self.window, "quit FaceGate"):
            self.leave(ADMIN_QUIT_STATUS)

    def leave(self, status: int = 0) -> None:
        """Close the window and end the app with ``status``: the only way out."""
        self._leaving = True
        self._admin_watch.stop()
        self.awake.stop()
        self.window.close()
        self.left.emit(status)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if watched is self.window.video:
            return self._video_event(event)
        if watched is not self.window or self._leaving:
            return False
        if kind == QEvent.Type.Close:
            event.ignore()
            log.info("refused to close the kiosk (the admin PIN is needed: %s, then Kiosk > Quit)", ADMIN_KEY)
            self.say("FaceGate keeps watching the door", 3000)
            return True
        if (
            kind == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and (
                event.key() == Qt.Key.Key_Escape
                or (event.key() == Qt.Key.Key_F4 and event.modifiers() & Qt.KeyboardModifier.AltModifier)
            )
        ):
            return self.mode == "kiosk" or event.key() == Qt.Key.Key_F4
        if kind == QEvent.Type.WindowStateChange:
            QTimer.singleShot(0, self._fill_screen)
        return False

    def _video_event(self, event: QEvent) -> bool:
        """In door mode a tap does nothing, except in the admin corner."""
        if self.mode != "kiosk" or event.type() not in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick):
            return False
        assert isinstance(event, QMouseEvent)  # PySide6 hands a mouse press over as its QMouseEvent
        corner = CORNER_SHARE * min(self.window.width(), self.window.height())
        at = self.window.video.mapTo(self.window, event.position().toPoint())
        if at.x() <= corner and at.y() <= corner and event.type() == QEvent.Type.MouseButtonPress:
            QTimer.singleShot(0, self.open_admin)
        return True
