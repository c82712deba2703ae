"""A desktop's idle inhibitors, for the screen-awake test: owns org.freedesktop.ScreenSaver and
org.gnome.SessionManager on the (test's private) session bus, answers Inhibit with a cookie and
prints every call as a JSON line. Run with the system's Python (python3-dbus, python3-gi), as
KDE's or GNOME's session would serve them: `/usr/bin/python3 desktop_idle.py`."""

import json
import sys

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

cookies = iter(range(100, 10_000))


def say(**call):
    print(json.dumps(call), flush=True)


class FreedesktopScreenSaver(dbus.service.Object):
    @dbus.service.method("org.freedesktop.ScreenSaver", in_signature="ss", out_signature="u", sender_keyword="sender")
    def Inhibit(self, app, reason, sender=None):
        cookie = next(cookies)
        say(interface="org.freedesktop.ScreenSaver", method="Inhibit", args=[app, reason], cookie=cookie, sender=sender)
        return cookie

    @dbus.service.method("org.freedesktop.ScreenSaver", in_signature="u")
    def UnInhibit(self, cookie):
        say(interface="org.freedesktop.ScreenSaver", method="UnInhibit", args=[int(cookie)])


class GnomeSessionManager(dbus.service.Object):
    @dbus.service.method("org.gnome.SessionManager", in_signature="susu", out_signature="u")
    def Inhibit(self, app, xid, reason, flags):
        cookie = next(cookies)
        say(interface="org.gnome.SessionManager", method="Inhibit", args=[app, int(xid), reason, int(flags)], cookie=cookie)
        return cookie

    @dbus.service.method("org.gnome.SessionManager", in_signature="u")
    def Uninhibit(self, cookie):
        say(interface="org.gnome.SessionManager", method="Uninhibit", args=[int(cookie)])


def main() -> None:
    DBusGMainLoop(set_as_default=True)
    bus = dbus.SessionBus()
    names = [dbus.service.BusName(n, bus) for n in ("org.freedesktop.ScreenSaver", "org.gnome.SessionManager")]
    FreedesktopScreenSaver(bus, "/org/freedesktop/ScreenSaver")
    GnomeSessionManager(bus, "/org/gnome/SessionManager")
    say(ready=True, names=[str(n.get_name()) for n in names])
    GLib.MainLoop().run()


if __name__ == "__main__":
    sys.exit(main())
