"""Keep the door's screen on while the kiosk runs, without new dependencies (ctypes over the
system's libX11, libXext and libdbus-1, all already needed by Qt).

What is done:

- On any desktop with a session bus (X11 or Wayland): ask the desktop not to go idle, over
  D-Bus: org.freedesktop.ScreenSaver.Inhibit (KDE Plasma, Xfce, LXQt, Cinnamon, MATE) and
  org.gnome.SessionManager.Inhibit with the "idle" flag (GNOME, on X11 and Wayland). The
  desktop drops these inhibitions by itself when our bus connection closes, so a crashed
  FaceGate never leaves a PC that cannot blank.
- On X11 (the xcb platform): what `xset s off -dpms` does: the X server's screensaver timeout
  set to 0 and DPMS (monitor power saving) disabled, both restored at a clean stop. These are
  server settings and outlive a crash; the restarted kiosk sets them again.
- Wayland has no client-side equivalent of the X server settings; a compositor that offers
  neither D-Bus interface (a bare kiosk compositor) must be told in its own configuration not
  to blank (e.g. cage blanks nothing by default).
- Windows: SetThreadExecutionState(ES_CONTINUOUS | ES_DISPLAY_REQUIRED) from the GUI thread,
  which Windows drops when the process ends (untested here).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

log = logging.getLogger("facegate.kiosk")

ES_CONTINUOUS, ES_DISPLAY_REQUIRED = 0x80000000, 0x00000002
INHIBITORS = (
    # (service, object path, interface, inhibit method, its arguments, release method)
    (
        "org.freedesktop.ScreenSaver",
        "/org/freedesktop/ScreenSaver",
        "org.freedesktop.ScreenSaver",
        "Inhibit",
        (("s", "FaceGate"), ("s", "door kiosk: the screen stays on")),
        "UnInhibit",
    ),
    (
        "org.gnome.SessionManager",
        "/org/gnome/SessionManager",
        "org.gnome.SessionManager",
        "Inhibit",
        (("s", "FaceGate"), ("u", 0), ("s", "door kiosk: the screen stays on"), ("u", 8)),
        "Uninhibit",
    ),
)


class ScreenAwake:
    """start() keeps the screen on (returns what it could do); stop() gives it back."""

    def __init__(self, x11: bool) -> None:
        self.x11 = x11
        self.done: list[str] = []
        self._bus: _SessionBus | None = None
        self._cookies: list[tuple[tuple, int]] = []
        self._x: _X11Saver | None = None

    def start(self) -> list[str]:
        try:
            self._bus = _SessionBus()
        except OSError as exc:
            log.info("no session bus to ask for the screen to stay on: %s", exc)
        if self._bus is not None:
            for inhibitor in INHIBITORS:
                service, path, interface, method, args, _ = inhibitor
                try:
                    self._cookies.append((inhibitor, self._bus.call(service, path, interface, method, args)))
                    self.done.append(f"{interface}.{method}")
                except OSError as exc:
                    log.info("%s.%s: %s", interface, method, exc)
        if self.x11:
            try:
                self._x = _X11Saver()
                self.done += self._x.disable()
            except OSError as exc:
                log.warning("cannot switch the X screensaver off: %s", exc)
        if sys.platform == "win32" and _kernel32().SetThreadExecutionState(ES_CONTINUOUS | ES_DISPLAY_REQUIRED):
            self.done.append("SetThreadExecutionState")
        log.info("keeping the screen on: %s", ", ".join(self.done) or "nothing worked")
        return self.done

    def stop(self) -> None:
        if self._bus is not None:
            for (service, path, interface, _, _, release), cookie in self._cookies:
                try:
                    self._bus.call(service, path, interface, release, (("u", cookie),))
                except OSError as exc:
                    log.info("%s.%s: %s", interface, release, exc)
            self._bus.close()
            self._bus = None
        self._cookies = []
        if self._x is not None:
            self._x.restore()
            self._x = None
        if "SetThreadExecutionState" in self.done:
            _kernel32().SetThreadExecutionState(ES_CONTINUOUS)


def _kernel32() -> Any:
    return ctypes.windll.kernel32  # type: ignore[attr-defined]


def _library(name: str, soname: str) -> ctypes.CDLL:
    return ctypes.CDLL(ctypes.util.find_library(name) or soname)


class _X11Saver:
    """`xset s off -dpms` and back, through libX11 and libXext."""

    def __init__(self) -> None:
        self.x = _library("X11", "libX11.so.6")
        self.x.XOpenDisplay.restype = ctypes.c_void_p
        self.x.XOpenDisplay.argtypes = [ctypes.c_char_p]
        for name in ("XGetScreenSaver", "XSetScreenSaver", "XSync", "XCloseDisplay"):
            getattr(self.x, name).argtypes = None
        self.display = self.x.XOpenDisplay(None)
        if not self.display:
            raise OSError("cannot open the X display")
        self.saved: tuple[int, int, int, int] | None = None
        self.dpms_was_on = False

    def disable(self) -> list[str]:
        d = ctypes.c_void_p(self.display)
        values = [ctypes.c_int() for _ in range(4)]  # timeout, interval, prefer blanking, allow exposures
        self.x.XGetScreenSaver(d, *(ctypes.byref(v) for v in values))
        timeout, interval, blanking, exposures = (v.value for v in values)
        self.saved = (timeout, interval, blanking, exposures)
        self.x.XSetScreenSaver(d, 0, interval, blanking, exposures)
        done = ["X screensaver off"]
        if self._dpms("DPMSCapable"):
            level, state = ctypes.c_ushort(), ctypes.c_ubyte()
            self.xext.DPMSInfo(d, ctypes.byref(level), ctypes.byref(state))
            self.dpms_was_on = bool(state.value)
            self.xext.DPMSDisable(d)
            done.append("DPMS off")
        self.x.XSync(d, 0)
        return done

    def _dpms(self, query: str) -> bool:
        """Whether the server has DPMS (Xvfb has not): ask quietly before using it."""
        try:
            self.xext = _library("Xext", "libXext.so.6")
        except OSError:
            return False
        d = ctypes.c_void_p(self.display)
        event, error = ctypes.c_int(), ctypes.c_int()
        return bool(self.xext.DPMSQueryExtension(d, ctypes.byref(event), ctypes.byref(error))) and bool(
            getattr(self.xext, query)(d)
        )

    def restore(self) -> None:
        d = ctypes.c_void_p(self.display)
        if self.saved is not None:
            self.x.XSetScreenSaver(d, *self.saved)
        if self.dpms_was_on:
            self.xext.DPMSEnable(d)
        self.x.XSync(d, 0)
        self.x.XCloseDisplay(d)


def session_bus_address() -> str:
    """$DBUS_SESSION_BUS_ADDRESS, else the per-user bus socket systemd-logind sessions have."""
    address = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    if address:
        return address
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.exists(os.path.join(runtime, "bus")):
        return f"unix:path={os.path.join(runtime, 'bus')}"
    raise OSError("no session bus (DBUS_SESSION_BUS_ADDRESS unset, no $XDG_RUNTIME_DIR/bus)")


class _DBusError(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("message", ctypes.c_char_p), ("dummy", ctypes.c_uint), ("padding", ctypes.c_void_p)]


class _SessionBus:
    """A private connection to the session bus through libdbus-1, held while inhibiting (the
    desktop ties each inhibition to the connection that asked)."""

    def __init__(self) -> None:
        lib = self.lib = _library("dbus-1", "libdbus-1.so.3")
        for name in ("dbus_connection_open_private", "dbus_message_new_method_call", "dbus_connection_send_with_reply_and_block"):
            getattr(lib, name).restype = ctypes.c_void_p
        lib.dbus_connection_open_private.argtypes = [ctypes.c_char_p, ctypes.POINTER(_DBusError)]
        lib.dbus_bus_register.argtypes = [ctypes.c_void_p, ctypes.POINTER(_DBusError)]
        lib.dbus_message_new_method_call.argtypes = [ctypes.c_char_p] * 4
        lib.dbus_connection_send_with_reply_and_block.argtypes = [
            ctypes.c_void_p,
            ctypes.c_void_p,
            ctypes.c_int,
            ctypes.POINTER(_DBusError),
        ]
        for name in ("dbus_message_unref", "dbus_connection_close", "dbus_connection_unref"):
            getattr(lib, name).argtypes = [ctypes.c_void_p]
        error = _DBusError()
        lib.dbus_error_init(ctypes.byref(error))
        # the session's own address only: libdbus would otherwise "autolaunch" a bus via X11
        self.conn = lib.dbus_connection_open_private(session_bus_address().encode(), ctypes.byref(error))
        if not self.conn:
            raise OSError(self._message(error))
        if not lib.dbus_bus_register(self.conn, ctypes.byref(error)):
            message = self._message(error)
            self.close()
            raise OSError(message)
        # libdbus's default for bus connections is to _exit() the process when the bus goes away
        lib.dbus_connection_set_exit_on_disconnect(ctypes.c_void_p(self.conn), 0)

    def call(self, service: str, path: str, interface: str, method: str, args: Sequence[tuple[str, str | int]]) -> int:
        """Call a method taking strings ('s') and uint32s ('u'); its uint32 answer (0 if none)."""
        lib = self.lib
        msg = lib.dbus_message_new_method_call(*(x.encode() for x in (service, path, interface, method)))
        it = ctypes.create_string_buffer(256)  # a DBusMessageIter (opaque, 72 bytes on 64-bit)
        lib.dbus_message_iter_init_append(ctypes.c_void_p(msg), it)
        keep = []
        for kind, value in args:
            box = ctypes.c_char_p(str(value).encode()) if kind == "s" else ctypes.c_uint32(int(value))
            keep.append(box)
            lib.dbus_message_iter_append_basic(it, ord(kind), ctypes.byref(box))
        error = _DBusError()
        lib.dbus_error_init(ctypes.byref(error))
        reply = lib.dbus_connection_send_with_reply_and_block(self.conn, msg, 2000, ctypes.byref(error))
        lib.dbus_message_unref(msg)
        if not reply:
            raise OSError(self._message(error))
        answer = ctypes.c_uint32(0)
        if lib.dbus_message_iter_init(ctypes.c_void_p(reply), it) and lib.dbus_message_iter_get_arg_type(it) == ord("u"):
            lib.dbus_message_iter_get_basic(it, ctypes.byref(answer))
        lib.dbus_message_unref(reply)
        return answer.value

    def _message(self, error: _DBusError) -> str:
        text = (error.message or b"unknown D-Bus error").decode(errors="replace")
        self.lib.dbus_error_free(ctypes.byref(error))
        return text

    def close(self) -> None:
        self.lib.dbus_connection_close(self.conn)
        self.lib.dbus_connection_unref(self.conn)
