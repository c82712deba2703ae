"""Open the FaceGate window: `facegate [--source CAMERA|URL|FILE] [--db PATH] [--kiosk [--screen N]]`.

Builds the gallery and its Station (core.station: the live loop with its descriptor process, the
door decision with every gate, the door output, events, site sync, health monitor), the window
and its pages over it, runs Qt, and on exit stops every thread and process before returning the
exit code.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QMessageBox

from core import logs
from core.errors import FaceGateError
from core.gallery.admin import AdminLock
from core.gallery.api import Gallery
from core.paths import default_db, resource_path
from core.service.unit import ADMIN_QUIT_STATUS, NO_PIN_STATUS, SITE_BROKEN_STATUS
from core.site.config import site_of
from core.station import Station
from gui.admin_dialog import install_admin
from gui.kiosk import Kiosk
from gui.main_window import build_window
from gui.settings_dialog import migrate_settings
from gui.supervision import Supervision
from gui.widgets import application

log = logging.getLogger("facegate.kiosk")
NO_PIN = (
    "no admin PIN is set for {db}: a kiosk would let whoever stands at the door choose one and "
    "take over. Choose the PIN first (facegate admin-pin set, or start FaceGate once without --kiosk), "
    "then the kiosk."
)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="facegate", description="FaceGate: face recognition at the door.")
    parser.add_argument(
        "--source",
        help="a camera number (0, 1, …), an rtsp:// or http:// URL, or a video file "
        "(default: the last one used, else the first camera)",
    )
    parser.add_argument(
        "--db",
        type=Path,
        default=None,
        help="the gallery database (default: gallery.db in the user's data folder, or in $FACEGATE_HOME)",
    )
    parser.add_argument(
        "--kiosk",
        action="store_true",
        help="the door's unattended screen: full screen, live view only, the admin pages and "
        "quitting behind the admin PIN (F12 or a tap in the top-left corner)",
    )
    parser.add_argument("--screen", default=None, help="with --kiosk: the screen to fill, by number or name")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check this installation: play the bundled demo clip in the window (offscreen), "
        "enroll, recognise, print what was seen; exit status 0 when it all works",
    )
    return parser.parse_args(argv)


def run(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.self_test:  # before any QApplication: the self-test makes its own, offscreen
        from gui.self_test import run as self_test

        return self_test()
    app = application()
    app.setOrganizationName("FaceGate")
    app.setApplicationName("FaceGate")
    app.setDesktopFileName("facegate")  # the installed facegate.desktop: its name and icon in the task bar
    app.setWindowIcon(QIcon(str(resource_path("facegate.png"))))
    settings = QSettings()
    db = args.db or default_db()
    logs.setup(Path(db).parent)
    try:
        gallery = Gallery(db)
    except FaceGateError as exc:
        QMessageBox.critical(None, "FaceGate", f"Cannot open the gallery {db}:\n{exc}")
        return 1
    try:  # fail secure: a door whose site file is broken would miss the site's revocations
        site_of(gallery.store)
    except FaceGateError as exc:
        log.error("%s", exc)
        print(f"facegate: {exc}", file=sys.stderr)
        if not args.kiosk:
            QMessageBox.critical(None, "FaceGate", f"The door stays shut:\n{exc}")
        gallery.close()
        return SITE_BROKEN_STATUS
    if args.kiosk and not AdminLock(gallery.store).is_set():  # never a dialog: nobody may be there to answer it
        log.error(NO_PIN.format(db=db))
        print(f"facegate: {NO_PIN.format(db=db)}", file=sys.stderr)
        gallery.close()
        return NO_PIN_STATUS
    station: Station | None = None
    try:
        migrate_settings(settings, gallery.store)  # once: the live loop's choices move into the gallery
        station = Station(gallery)
        window = build_window(station, settings)
        kiosk = Kiosk(window, args.screen) if args.kiosk else None
        if kiosk is not None:
            app.setQuitOnLastWindowClosed(False)
            kiosk.left.connect(app.exit)
        (kiosk or window).show()
        install_admin(window)  # after show(): the first-start PIN dialog sits over the running video
        window.start(args.source)
        supervision = Supervision(window, station, kiosk)  # heartbeat, watchdog, start/stop in the access log
        supervision.start()
        try:
            code = app.exec()
        except BaseException as exc:
            supervision.record.note_fault(f"uncaught {type(exc).__name__}: {exc}")
            raise
        window.shutdown()
        supervision.stop("the admin quit the kiosk" if code == ADMIN_QUIT_STATUS else None)
        return code
    finally:
        if station is not None:
            station.close()  # already closed by the window, unless building it failed
        gallery.close()
