"""The Recent faces page in the real window (offscreen, the clip as the camera, nobody enrolled):
faces come in with thumbnails big enough to tell apart; Lin-Manuel is enrolled from the queue;
adding the stranger to him shows both faces side by side with the distance and adds nothing
unless confirmed or, beyond the different-people distance, forced with the admin PIN; the add
is undone in one click; the rows hold still while new faces arrive. And the letter keys: E opens
enrollment from the video, never while a text field has the focus (no bare letter is a Qt
shortcut, which Qt would try before the focused field)."""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QShortcut
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QLabel

from core.door.access_log import AccessEvent, AccessLog
from core.gallery.admin import AdminLock
from core.gallery.plausible import DIFFERENT_PEOPLE
from core.vision.images import load_image
from core.vision.quality import problems
from gui.admin_dialog import AdminDialog, install_admin
from gui.compare_dialog import CompareDialog
from gui.recent_page import FACE_SIDE, SHOWN
from tests.support.data import CLIP, IMAGES, clip_frames
from tests.support.window import on_modal, play

LIN = "Lin-Manuel"
PIN = "2468"


def rows(page) -> list[str]:
    return [page.table.item(r, 0).text() for r in range(page.table.rowCount())]


def selected_ids(page) -> list[int]:
    return [f.id for f in page.selected()]


def lin_and_stranger(window, page) -> tuple[int, int]:
    """Of the good shots queued, the face nearest Lin-Manuel's photo, and the farthest from it (the
    person after him)."""
    (photo,) = [f for f in window.gallery.faces(load_image(IMAGES / "lin-manuel-miranda.png")) if f.descriptor is not None]
    good = [f for f in page.shown if not problems(f.quality)]
    by_distance = sorted(good, key=lambda f: float(np.linalg.norm(page.recent._descriptor(f.id) - photo.descriptor)))
    return by_distance[0].id, by_distance[-1].id


def select(page, face_id: int) -> None:
    page.table.clearSelection()
    page.table.selectRow(next(r for r, f in enumerate(page.shown) if f.id == face_id))


def test_review_queue_enrolls_refuses_a_stranger_undoes_and_holds_still(qtbot, live_window):
    window, recording = live_window
    AdminLock(window.gallery.store).set_secret(PIN)
    session = install_admin(window)
    session.unlock(PIN)  # the operator gave the PIN for this session already
    page = window.door_pages.recent_page
    play(qtbot, window, recording)
    qtbot.waitUntil(lambda: page.table.rowCount() >= 2, timeout=10_000)
    assert page.table.iconSize() == QSize(FACE_SIDE, FACE_SIDE) and FACE_SIDE >= 96
    icon = page.table.item(0, 0).icon()
    assert icon.actualSize(QSize(FACE_SIDE, FACE_SIDE)).width() == FACE_SIDE  # not a 16 px stamp
    assert page.table.rowHeight(0) >= FACE_SIDE

    # enroll him from the queue
    lin, stranger = lin_and_stranger(window, page)
    select(page, lin)
    page.name.setCurrentText(LIN)
    results = page.act("enroll")
    assert results == [(lin, None)] and window.gallery.store.person(LIN).sample_count == 1
    (source,) = [s.source for s in window.gallery.store.samples(LIN)]
    assert source == f"review: recent face #{lin}, a new person"
    assert page.undo_add.isEnabled() and page.undo_add.text() == f"Undo: #{lin} into {LIN}"

    # the stranger as a sample of him: both faces, the distance, and nothing added on Cancel
    select(page, stranger)
    shown = on_modal(CompareDialog, lambda d: d.buttons.button(QDialogButtonBox.StandardButton.Cancel).click())
    results = page.act("add")
    (dialog,) = shown
    distance = dialog.refusal.plausible.distance
    assert distance > DIFFERENT_PEOPLE and dialog.refusal.needs == "force"
    assert dialog.distance.text() == f"{distance:.3f} apart: different people"
    assert "the distance at which two faces are different people" in dialog.why.text()
    assert all(not f.pixmap().isNull() and f.pixmap().width() >= 200 for f in dialog.faces)  # both, large
    assert "Force" in dialog.go.text() and "admin PIN" in dialog.go.text()
    assert results[0][0] == stranger and "(cancelled)" in results[0][1]
    assert window.gallery.store.person(LIN).sample_count == 1 and "refused" in page.status.text()

    # forced: the dialog, then the admin PIN asked afresh (although the session is unlocked)
    on_modal(CompareDialog, lambda d: d.go.click())
    asked = on_modal(AdminDialog, lambda d: (d.secret.setText(PIN), d.accept()))
    results = page.act("add")
    assert results == [(stranger, None)] and asked
    assert any(
        f"needed to force face #{stranger} into {LIN}'s samples" in label.text() for label in asked[0].findChildren(QLabel)
    )
    samples = window.gallery.store.samples(LIN)
    assert len(samples) == 2 and samples[-1].source.endswith(", forced by an admin)")
    assert page.undo_add.isEnabled() and f"#{stranger}" in page.undo_add.text()

    # new faces arrive while a face is selected: the rows hold still, the new faces wait
    before = rows(page)
    select(page, lin)
    chosen_row = before.index(f"#{lin}")
    play(qtbot, window, recording)
    qtbot.waitUntil(lambda: page.new_faces.isEnabled(), timeout=10_000)
    assert rows(page) == before and selected_ids(page) == [lin] and rows(page)[chosen_row] == f"#{lin}"
    assert page.new_faces.text().startswith("Show ") and "new face" in page.new_faces.text()
    flood(page.recent, SHOWN)  # a busy door: the faces shown are no longer the newest
    page.reload()

    # undone in one click: the held row says so
    with qtbot.waitSignal(page.gallery_changed, timeout=5000):
        qtbot.mouseClick(page.undo_add, Qt.MouseButton.LeftButton)
    assert window.gallery.store.person(LIN).sample_count == 1 and page.recent.face(stranger).status == "undone"
    assert not page.undo_add.isEnabled() and f"Undone: #{stranger}" in page.status.text()
    assert rows(page) == before and page.table.item(before.index(f"#{stranger}"), 5).text() == "added, then undone"

    qtbot.mouseClick(page.new_faces, Qt.MouseButton.LeftButton)  # the operator asks for the new faces
    assert len(rows(page)) == SHOWN and f"#{lin}" not in rows(page) and not page.new_faces.isEnabled()
    page.table.clearSelection()  # nothing chosen: faces flow in again
    assert not page.holding()


def flood(recent, count: int) -> None:
    """``count`` more faces in the queue, copies of the newest (as a crowd at the door would bring)."""
    newest = recent.recent(1)[0]
    descriptor = recent._descriptor(newest.id)
    event = AccessEvent(newest.verdict, reason="a crowd", snapshot=recent.snapshot(newest.id))
    for _ in range(count):
        AccessLog(recent.store).record(event)
        recent.record(event, descriptor, newest.quality, [])


def lone_face_video(path) -> str:
    """Frames of the clip where Lin-Manuel is alone on screen, as a file the window plays as its camera."""
    frames = clip_frames(CLIP)[150:200]
    h, w = frames[0].shape[:2]
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30, (w, h))
    for rgb in frames:
        out.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    out.release()
    return str(path)


def letter_shortcuts(window) -> list[str]:
    """Every shortcut of the window that is a bare letter, digit or sign: Qt tries shortcuts before
    the focused widget, so such a shortcut would act on a key typed into a text field."""
    sequences = [s for a in window.findChildren(QAction) for s in a.shortcuts()]
    sequences += [s.key() for s in window.findChildren(QShortcut)]
    bare = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.MetaModifier
    return [
        seq.toString()
        for seq in sequences
        for i in range(seq.count())
        if not seq[i].keyboardModifiers() & bare and seq[i].key().value < Qt.Key.Key_Escape.value
    ]


def test_letter_keys_never_act_while_a_text_field_has_the_focus(qtbot, live_window, tmp_path):
    window, recording = live_window
    assert letter_shortcuts(window) == []
    assert any(a.text().endswith("\tE") for a in window.findChildren(QAction))  # the menu still tells of E
    play(qtbot, window, recording, source=lone_face_video(tmp_path / "lone.avi"))
    assert len(window.last.result.tracks) == 1  # one face on screen
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5000)

    window.video.setFocus()
    qtbot.keyClick(QApplication.focusWidget() or window, Qt.Key.Key_E)  # from the video: E enrolls
    panel = window.enroll_dialog
    assert panel is not None and QApplication.focusWidget() is panel.name
    qtbot.keyClicks(QApplication.focusWidget(), "Lin-Manuel Ee")  # typing his name, E and e in it
    assert window.enroll_dialog is panel and panel.name.currentText() == "Lin-Manuel Ee"
    assert not panel.started
    panel.reject()

    # every text field of the window, e.g. the Recent faces page's name box
    page = window.door_pages.recent_page
    window.tabs.setCurrentWidget(page)
    page.name.setFocus()
    page.name.setCurrentText("")
    qtbot.keyClicks(QApplication.focusWidget(), "Eve")
    assert window.enroll_dialog is None and window.tabs.currentWidget() is page and page.name.currentText() == "Eve"
