"""The admin lock in the real window: the PIN is chosen at first start while the video runs;
enrolling, deleting, settings, door and log export ask for it; a wrong PIN changes nothing; the
live view keeps running while the PIN dialog is open."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from core.gallery.admin import FREE_TRIES
from core.gallery.store import NewSample
from gui.admin_dialog import AdminDialog, install_admin
from tests.support.data import CLIP, IMAGES

PIN = "2468"


def answer(qtbot, *tries: str | None, frames=None) -> list[str]:
    """Answer the next PIN dialogs: each try is a PIN to type (None: cancel). Returns what the
    dialog said after each wrong one; counts frames shown while it is open into ``frames``."""
    said: list[str] = []
    pending = list(tries)

    def act() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, AdminDialog) or not dialog.isVisible():
            QTimer.singleShot(20, act)
            return
        if frames is not None and frames["open_at"] is None:
            frames["open_at"] = frames["count"]
            QTimer.singleShot(1500, act)  # leave it open a while: does the video go on?
            return
        pin = pending.pop(0)
        if pin is None:
            dialog.reject()
            return
        dialog.secret.setText(pin)
        dialog.accept()
        if dialog.isVisible():
            said.append(dialog.message.text())
            if pending:
                QTimer.singleShot(20, act)

    QTimer.singleShot(0, act)
    return said


def test_pin_chosen_at_first_start_then_asked_for_every_change(qtbot, live_window, gallery):
    window, _ = live_window
    gallery.enroll_samples("Ada", [NewSample(np.full(128, 0.01, np.float32))])
    window.people.reload()
    frames = {"count": 0, "open_at": None}
    window.frame_shown.connect(lambda _: frames.__setitem__("count", frames["count"] + 1))
    window.open_source(str(CLIP))
    session = install_admin(window)

    first = window.first_pin_dialog  # first start: not modal, the video runs behind it
    assert first.isVisible() and not session.lock.is_set()
    qtbot.waitUntil(lambda: frames["count"] >= 10, timeout=60_000)
    first.secret.setText(PIN)
    first.again.setText("2469")
    first.accept()
    assert first.isVisible() and "differ" in first.message.text()
    first.secret.setText(PIN)
    first.again.setText(PIN)
    first.accept()
    assert not first.isVisible() and session.lock.is_set() and session.unlocked()

    session.relock()
    window.people.select("Ada")
    answer(qtbot, None)  # cancel: nothing is deleted
    assert window.people._did(lambda: window.gallery.remove("Ada")) is False
    assert [p.name for p in window.gallery.people()] == ["Ada"]

    said = answer(qtbot, "0000", "1234", PIN, frames=frames)  # two wrong, then right
    before = frames["count"]
    assert window.people._did(lambda: window.gallery.remove("Ada")) is True
    assert window.gallery.people() == []
    assert len(said) == 2 and all("Wrong admin PIN" in s for s in said)
    assert frames["count"] - before >= 5, "the live view stopped while the PIN dialog was open"
    assert session.lock.failures().count == 0

    session.relock()  # enrolling, settings, door, export: each asks, and a cancel refuses it
    for action in (
        lambda: window.enroll(1),
        window.open_settings,
        window.door_pages.settings_page.apply,
        window.door_pages.test_unlock,
        window.door_pages.log_page.choose_export,
    ):
        answer(qtbot, None)
        result = action()
        assert result in (None, False) or str(result).startswith("refused"), result
    assert not session.unlocked()
    assert window.door_pages.door.status().state != "open"

    gallery.enroll_samples("Bo", [NewSample(np.full(128, 0.02, np.float32))])  # adding photos asks too
    answer(qtbot, None)
    window.people.add_photo_files("Bo", [str(IMAGES / "obama.jpg")])
    assert not window.people.jobs.busy and gallery.store.person("Bo").sample_count == 1


def test_too_many_wrong_pins_make_the_dialog_wait(qtbot, live_window):
    window, _ = live_window
    session = install_admin(window)
    window.first_pin_dialog.secret.setText(PIN)
    window.first_pin_dialog.again.setText(PIN)
    window.first_pin_dialog.accept()
    session.relock()
    said = answer(qtbot, *["9999"] * FREE_TRIES, None)
    assert window.people._did(lambda: None) is False
    assert "wait" in said[-1]
    dialog = AdminDialog(session, "test", parent=window)
    ok = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
    assert not ok.isEnabled() and "Too many wrong tries" in dialog.message.text()
    assert session.lock.wait_seconds() > 0
    dialog.reject()


def test_the_pin_dialogs_explanation_is_shown_whole(qtbot, gallery):
    """Its first line was clipped (a wrapped label in a spanning form row); now it has the
    height its text needs at the dialog's width."""
    from core.gallery.admin import AdminLock, AdminSession
    from gui.admin_dialog import AdminDialog

    dialog = AdminDialog(AdminSession(AdminLock(gallery.store)), "", setting=True)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    intro = dialog.intro
    assert intro.text().startswith("Choose a PIN") and intro.geometry().top() >= 0
    assert intro.height() >= intro.heightForWidth(intro.width()) > intro.fontMetrics().height()  # several lines, all there
    dialog.reject()
