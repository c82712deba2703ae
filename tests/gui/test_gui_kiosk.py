"""Kiosk mode in the real window: full screen without decorations, names and door state large
enough for two metres, taps on faces ignored, the admin pages only through the PIN (F12 or the
corner), and no way to close it without the PIN - offscreen here, and once on a real X server
(Xvfb), where the window manager's close message and Alt+F4/Escape typed through XTEST are refused
and the screen saver is switched off while it runs."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from PySide6.QtCore import QPoint, QSettings, Qt, QTimer
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QApplication

from core.door.access_log import AccessLog
from core.gallery.admin import AdminLock
from core.gallery.api import Gallery
from core.service.unit import ADMIN_QUIT_STATUS, NO_PIN_STATUS
from core.station import Station
from gui.admin_dialog import AdminDialog, install_admin
from gui.kiosk import LETTER_MM, Kiosk, text_px
from gui.main_window import build_window
from tests.support.cli import facegate
from tests.support.data import CLIP, ROOT
from tests.support.window import live_children
from tests.support.xserver import xvfb

PIN = "2468"


@pytest.fixture
def kiosk(qtbot, gallery, tmp_path):
    """(kiosk, window) over a gallery with an admin PIN, playing the clip as a looping camera."""
    AdminLock(gallery.store).set_secret(PIN)
    settings = QSettings(str(tmp_path / "facegate.ini"), QSettings.Format.IniFormat)
    window = build_window(Station(gallery), settings)
    qtbot.addWidget(window)
    kiosk = Kiosk(window)
    kiosk.show()
    install_admin(window)
    window.start(str(CLIP))
    yield kiosk, window
    if not kiosk._leaving:
        kiosk.leave(0)
    window.shutdown()
    assert live_children() == []


def answer_pin(qtbot, pin: str | None) -> None:
    """Type ``pin`` into the next PIN dialog (None: cancel it)."""

    def act() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, AdminDialog):
            QTimer.singleShot(20, act)
            return
        if pin is None:
            dialog.reject()
        else:
            dialog.secret.setText(pin)
            dialog.accept()

    QTimer.singleShot(0, act)


def test_kiosk_fills_the_screen_and_cannot_be_closed_without_the_pin(qtbot, kiosk):
    kiosk, window = kiosk
    screen = window.screen()
    assert window.isFullScreen() and window.geometry() == screen.geometry()
    assert window.windowFlags() & Qt.WindowType.FramelessWindowHint
    assert not window.menuBar().isVisible() and not window.tabs.tabBar().isVisible()
    assert window.tabs.currentWidget() is window.video
    qtbot.waitUntil(lambda: window.last is not None and bool(window.last.result.tracks), timeout=60_000)

    # letters for two metres: the door state, the decision and the names over faces
    px = text_px(screen)
    state = window.door_pages.indicator.state
    assert "Door locked" in state.text() and state.isVisible()
    cap_mm = QFontMetrics(state.font()).capHeight() / screen.physicalDotsPerInchY() * 25.4
    assert state.font().pixelSize() == px and cap_mm >= 0.95 * LETTER_MM, cap_mm
    assert window.video.min_label_px == px

    # every way to close it is refused; the door and the video keep going
    door = window.door_pages.door
    for _ in range(2):
        window.close()
        qtbot.keyClick(window, Qt.Key.Key_Escape)
        qtbot.keyClick(window, Qt.Key.Key_F4, Qt.KeyboardModifier.AltModifier)
    shown = window.last.source_index
    qtbot.waitUntil(lambda: window.last.source_index != shown, timeout=30_000)
    assert window.isVisible() and window.isFullScreen() and not window._closed
    assert window.door_pages.door is door and door.unlock() == "unlocking"

    # a tap on a face starts nothing in door mode (no enrollment, no PIN dialog)
    track = window.last.result.tracks[0]
    qtbot.mouseClick(window.video, Qt.MouseButton.LeftButton, pos=window.video.to_widget(*track.box.center).toPoint())
    qtbot.wait(200)
    assert window.enroll_dialog is None and QApplication.activeModalWidget() is None

    # F12 with a wrong PIN (cancelled after): still door mode; the corner with the right PIN: admin
    answer_pin(qtbot, None)
    assert kiosk.open_admin() is False and kiosk.mode == "kiosk"
    answer_pin(qtbot, PIN)
    qtbot.mouseClick(window.video, Qt.MouseButton.LeftButton, pos=QPoint(5, 5))
    qtbot.waitUntil(lambda: kiosk.mode == "kiosk admin", timeout=10_000)
    assert window.menuBar().isVisible() and window.tabs.tabBar().isVisible() and window.admin.unlocked()
    window.close()  # admin mode does not close either: only Kiosk > Quit does
    assert window.isVisible()

    window.admin.relock()  # the admin session ends: back to the door screen by itself
    qtbot.waitUntil(lambda: kiosk.mode == "kiosk", timeout=5_000)
    assert not window.menuBar().isVisible()

    answer_pin(qtbot, "0000")  # Kiosk > Quit with a wrong PIN: still there
    QTimer.singleShot(300, lambda: QApplication.activeModalWidget() and QApplication.activeModalWidget().reject())
    kiosk.quit()
    assert window.isVisible() and not kiosk._leaving
    statuses: list[int] = []
    kiosk.left.connect(statuses.append)
    answer_pin(qtbot, PIN)
    kiosk.quit()
    assert statuses == [ADMIN_QUIT_STATUS] and not window.isVisible() and window._closed


def test_the_kiosks_words_are_shown_whole_in_its_letters(qtbot, kiosk):
    """A refused close said "FaceGate keeps watchir" beside the door state in the status bar; now it
    spans the top of the picture, wrapped, in the kiosk's letters; the door state is never squeezed."""
    kiosk, window = kiosk
    window.close()
    notice = kiosk.notice
    assert notice.isVisible() and notice.text() == "FaceGate keeps watching the door"
    assert notice.width() == window.video.width() and notice.height() >= notice.heightForWidth(notice.width())
    indicator = window.door_pages.indicator
    long = "Lin-Manuel Miranda: please blink or turn your head " * 3
    indicator.decision.setText(long)
    qtbot.wait(50)
    # the decision gives way (ending in "…"), the door state keeps the room (all of it it needs on
    # a real screen: the Xvfb screenshot at 1600 px; this offscreen screen is 800 px wide)
    assert indicator.decision.width() < indicator.decision.fontMetrics().horizontalAdvance(long)
    assert indicator.state.width() >= min(indicator.state.sizeHint().width(), window.width() * 0.9)


def test_a_kiosk_off_the_screen_counts_as_hung(qtbot, kiosk):
    """Hidden (unmapped from outside, minimised) for longer than the GUI's limit, the kiosk is
    reported as a stalled part: no watchdog ping, so the service manager restarts it."""
    from core.service.monitor import Limits
    from gui.supervision import Supervision

    kiosk, window = kiosk
    supervision = Supervision(window, window.station, kiosk, limits=Limits(gui=1.0))
    supervision.tick()
    assert kiosk.on_screen() and not any("kiosk" in s for s in supervision.monitor.beat().stalled)
    window.hide()
    qtbot.wait(1500)
    supervision.tick()
    assert not kiosk.on_screen()
    assert any("the kiosk has not been on the screen" in s for s in supervision.monitor.beat().stalled)
    kiosk.show()
    qtbot.waitUntil(kiosk.on_screen, timeout=5_000)
    supervision.tick()
    assert not any("kiosk" in s for s in supervision.monitor.beat().stalled)


class XWindowAttributes(ctypes.Structure):
    _fields_ = [
        ("x", ctypes.c_int),
        ("y", ctypes.c_int),
        ("width", ctypes.c_int),
        ("height", ctypes.c_int),
        ("border_width", ctypes.c_int),
        ("depth", ctypes.c_int),
        ("visual", ctypes.c_void_p),
        ("root", ctypes.c_ulong),
        ("class_", ctypes.c_int),
        ("bit_gravity", ctypes.c_int),
        ("win_gravity", ctypes.c_int),
        ("backing_store", ctypes.c_int),
        ("backing_planes", ctypes.c_ulong),
        ("backing_pixel", ctypes.c_ulong),
        ("save_under", ctypes.c_int),
        ("colormap", ctypes.c_ulong),
        ("map_installed", ctypes.c_int),
        ("map_state", ctypes.c_int),
        ("all_event_masks", ctypes.c_long),
        ("your_event_mask", ctypes.c_long),
        ("do_not_propagate_mask", ctypes.c_long),
        ("override_redirect", ctypes.c_int),
        ("screen", ctypes.c_void_p),
    ]


class X11:
    """The test's own client of the X server: what a window manager and a keyboard would do."""

    def __init__(self, display: str) -> None:
        self.x = ctypes.CDLL("libX11.so.6")
        self.x.XOpenDisplay.restype = ctypes.c_void_p
        self.xtst = ctypes.CDLL("libXtst.so.6")
        self.d = ctypes.c_void_p(self.x.XOpenDisplay(display.encode()))
        assert self.d.value, f"cannot open {display}"
        self.x.XDefaultRootWindow.restype = ctypes.c_ulong
        self.root = self.x.XDefaultRootWindow(self.d)

    def screensaver_timeout(self) -> int:
        values = [ctypes.c_int() for _ in range(4)]
        self.x.XGetScreenSaver(self.d, *(ctypes.byref(v) for v in values))
        return values[0].value

    def set_screensaver_timeout(self, seconds: int) -> None:
        self.x.XSetScreenSaver(self.d, seconds, 600, 1, 1)
        self.x.XSync(self.d, 0)

    def windows(self) -> list[tuple[int, str, tuple[int, int, int, int]]]:
        """Mapped top-level windows: (id, title, (x, y, width, height))."""
        root, parent = ctypes.c_ulong(), ctypes.c_ulong()
        children, count = ctypes.POINTER(ctypes.c_ulong)(), ctypes.c_uint()
        self.x.XQueryTree(
            self.d,
            ctypes.c_ulong(self.root),
            ctypes.byref(root),
            ctypes.byref(parent),
            ctypes.byref(children),
            ctypes.byref(count),
        )
        found = []
        for i in range(count.value):
            window = children[i]
            attrs = XWindowAttributes()
            self.x.XGetWindowAttributes(self.d, ctypes.c_ulong(window), ctypes.byref(attrs))
            name = ctypes.c_char_p()
            self.x.XFetchName(self.d, ctypes.c_ulong(window), ctypes.byref(name))
            if attrs.map_state == 2:  # IsViewable
                found.append((window, (name.value or b"").decode(), (attrs.x, attrs.y, attrs.width, attrs.height)))
        if children:
            self.x.XFree(children)
        return found

    def close_window(self, window: int) -> None:
        """What a window manager's close button does: a WM_DELETE_WINDOW client message."""
        intern = self.x.XInternAtom
        intern.restype = ctypes.c_ulong
        protocols = intern(self.d, b"WM_PROTOCOLS", 0)
        delete = intern(self.d, b"WM_DELETE_WINDOW", 0)

        class ClientMessage(ctypes.Structure):
            _fields_ = [
                ("type", ctypes.c_int),
                ("serial", ctypes.c_ulong),
                ("send_event", ctypes.c_int),
                ("display", ctypes.c_void_p),
                ("window", ctypes.c_ulong),
                ("message_type", ctypes.c_ulong),
                ("format", ctypes.c_int),
                ("data", ctypes.c_long * 5),
                ("pad", ctypes.c_long * 8),
            ]

        event = ClientMessage(type=33, window=window, message_type=protocols, format=32)  # ClientMessage
        event.data[0], event.data[1] = delete, 0
        self.x.XSendEvent(self.d, ctypes.c_ulong(window), 0, 0, ctypes.byref(event))
        self.x.XSync(self.d, 0)

    def destroy_window(self, window: int) -> None:
        """What ``xdotool windowclose`` does: destroy the window from outside, no question asked."""
        self.x.XDestroyWindow(self.d, ctypes.c_ulong(window))
        self.x.XSync(self.d, 0)

    def press(self, *keysyms: int) -> None:
        """Press and release keys through XTEST, as a real keyboard would (e.g. Alt+F4)."""
        codes = [self.x.XKeysymToKeycode(self.d, ctypes.c_ulong(k)) for k in keysyms]
        for code in codes:
            self.xtst.XTestFakeKeyEvent(self.d, code, 1, 0)
        for code in reversed(codes):
            self.xtst.XTestFakeKeyEvent(self.d, code, 0, 0)
        self.x.XSync(self.d, 0)

    def close(self) -> None:
        self.x.XCloseDisplay(self.d)


XK_ESCAPE, XK_F4, XK_ALT_L = 0xFF1B, 0xFFC1, 0xFFE9


def test_a_kiosk_without_an_admin_pin_refuses_to_start_and_offers_none(tmp_path, gallery):
    """Nobody at an unattended door may choose the admin PIN: `facegate --kiosk` on a gallery
    without one exits at once (a status the service does not restart), saying what to do."""
    db = gallery.store.path
    gallery.close()
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "FACEGATE_HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    done = facegate("--kiosk", "--db", db, "--source", CLIP, env=env, timeout=120)
    assert done.returncode == NO_PIN_STATUS, done.stderr
    assert "no admin PIN is set" in done.stderr and "without --kiosk" in done.stderr
    with Gallery(db) as g:
        assert not AdminLock(g.store).is_set()
        assert AccessLog(g.store).events() == []  # it never started: no "FaceGate started"


def test_kiosk_on_a_real_x_server(tmp_path, gallery):
    """`facegate --kiosk` as a process on Xvfb: it fills the 1280x800 screen, refuses the
    window manager's close and Alt+F4/Escape, keeps the screen saver off while it runs, and on
    SIGTERM stops cleanly and gives the screen saver back."""
    AdminLock(gallery.store).set_secret(PIN)
    db = gallery.store.path
    gallery.close()
    with xvfb() as display:
        check_on_x(display, db, tmp_path)
    with Gallery(db) as g:
        verdicts = [e.verdict for e in AccessLog(g.store).events()]
    assert verdicts[0] == "FaceGate stopped" and verdicts[-1] == "FaceGate started"


def notify_listener(tmp_path) -> socket.socket:
    """The service manager's end of $NOTIFY_SOCKET (tmp_path/notify)."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(tmp_path / "notify"))
    listener.settimeout(120)
    return listener


def start_kiosk(display: str, db, tmp_path, listener: socket.socket) -> subprocess.Popen:
    """`facegate --kiosk` on ``display`` playing the clip, once it has said READY=1."""
    env = {
        **os.environ,
        "DISPLAY": display,
        "QT_QPA_PLATFORM": "xcb",
        "NOTIFY_SOCKET": str(tmp_path / "notify"),
        "FACEGATE_HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    app = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "--kiosk", "--db", str(db), "--source", str(CLIP)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    while b"READY=1" not in listener.recv(4096):
        pass
    return app


def check_on_x(display: str, db, tmp_path) -> None:
    """Run the kiosk on ``display`` and try to close it as a window manager and a keyboard would."""
    x = X11(display)
    listener = notify_listener(tmp_path)
    app = None
    try:
        x.set_screensaver_timeout(300)
        app = start_kiosk(display, db, tmp_path, listener)
        (window,) = [w for w in x.windows() if w[1] == "FaceGate"]
        assert window[2] == (0, 0, 1280, 800), window
        assert x.screensaver_timeout() == 0
        x.close_window(window[0])
        x.press(XK_ALT_L, XK_F4)
        x.press(XK_ESCAPE)
        time.sleep(2)
        assert app.poll() is None, app.stderr.read().decode()[-2000:]
        assert [w[0] for w in x.windows() if w[1] == "FaceGate"] == [window[0]]
        app.send_signal(signal.SIGTERM)
        assert app.wait(60) == 0
        assert x.screensaver_timeout() == 300
    finally:
        if app is not None and app.poll() is None:
            app.kill()
            app.wait()
        listener.close()
        x.close()


def test_a_kiosk_destroyed_from_outside_is_not_healthy(tmp_path, gallery):
    """`xdotool windowclose` on the kiosk left a black screen while `facegate status` said healthy:
    now the kiosk says it is off the screen, the monitor counts it as hung (no more watchdog pings,
    so the service manager restarts it) and `facegate status` says unhealthy, and why."""
    AdminLock(gallery.store).set_secret(PIN)
    db = gallery.store.path
    gallery.close()
    with xvfb() as display:
        x = X11(display)
        listener = notify_listener(tmp_path)
        app = start_kiosk(display, db, tmp_path, listener)
        try:
            assert facegate("status", "--db", db, "--json").returncode == 0
            (window,) = [w for w in x.windows() if w[1] == "FaceGate"]
            x.destroy_window(window[0])
            deadline = time.monotonic() + 60
            listener.setblocking(False)
            while time.monotonic() < deadline:
                with contextlib.suppress(BlockingIOError):
                    while listener.recv(4096):  # as the service manager does: a full socket would block the monitor
                        pass
                status = facegate("status", "--db", db, "--json")
                if status.returncode != 0:
                    break
                time.sleep(1)
            assert status.returncode == 1, status.stdout
            assert "the kiosk has not been on the screen" in status.stdout
            assert app.poll() is None  # alive but off the screen: the service manager's watchdog restarts it
        finally:
            if app.poll() is None:
                app.kill()
                app.wait()
            listener.close()
            x.close()
