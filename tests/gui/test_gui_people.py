"""The people panel: renaming or deleting a person changes what the live overlay says at once;
samples are added from photos (unusable ones named) and removed one by one."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QInputDialog, QMessageBox

from core.gallery.photo_views import VIEW_WIDTHS
from core.live.sources import FrameSource
from tests.support.data import CLIP, IMAGES
from tests.support.window import LIN


def _enroll_from_clip(gallery, frames=(150, 165, 180, 195)) -> None:
    """Lin-Manuel Miranda as a door camera would see him: samples from the clip's frames."""
    images = []
    with FrameSource(CLIP, pace=False) as src:
        while (frame := src.read()) is not None and frame.index <= max(frames):
            if frame.index in frames:
                images.append(frame.rgb)
    gallery.enroll(LIN, images)


def _answer_next_dialog(qtbot, answer) -> None:
    """Answer the modal dialog the next action opens (as the operator would), once it is up."""

    def respond():
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(20, respond)
            return
        answer(dialog)

    QTimer.singleShot(0, respond)


def _overlay_labels(window) -> list[str]:
    return [t.label for t in window.last.result.tracks] if window.last else []


def test_rename_and_delete_change_the_overlay_at_once(qtbot, live_window):
    window, _ = live_window
    _enroll_from_clip(window.gallery)
    window.recognizer.refresh()
    window.people.reload()
    assert window.people.list.count() == 1
    assert window.people.list.item(0).text() == f"{LIN}\n4 samples"
    assert not window.people.list.item(0).icon().isNull()  # the thumbnail
    window.loop = True  # he comes back every lap of the clip
    window.open_source(str(CLIP))
    qtbot.waitUntil(lambda: LIN in _overlay_labels(window), timeout=90_000)

    window.people.select(LIN)

    def rename(dialog: QInputDialog):
        dialog.setTextValue("Lin")
        dialog.accept()

    _answer_next_dialog(qtbot, rename)
    window.people.rename()
    assert window.people.names() == ["Lin"]
    qtbot.waitUntil(lambda: "Lin" in _overlay_labels(window), timeout=5_000)
    assert LIN not in _overlay_labels(window)

    window.people.select("Lin")
    _answer_next_dialog(qtbot, lambda box: box.button(QMessageBox.StandardButton.No).click())
    window.people.delete()  # the operator says no: nothing changes
    assert window.people.names() == ["Lin"]

    _answer_next_dialog(qtbot, lambda box: box.button(QMessageBox.StandardButton.Yes).click())
    window.people.delete()
    assert window.people.names() == [] and window.people.list.count() == 0
    qtbot.waitUntil(lambda: _overlay_labels(window) == ["Unknown"], timeout=5_000)


def test_add_photos_and_remove_single_samples(qtbot, live_window, tmp_path):
    from gui.people_panel import SamplesDialog

    window, _ = live_window
    _enroll_from_clip(window.gallery, frames=(150, 180))
    window.people.reload()
    not_a_photo = tmp_path / "notes.txt"
    not_a_photo.write_text("not a photo")
    window.people.add_photo_files(LIN, [str(IMAGES / "lin-manuel-miranda.png"), str(not_a_photo)])
    assert window.people.jobs.busy  # read on a job thread, not the GUI's
    qtbot.waitUntil(lambda: not window.people.jobs.busy and bool(window.people.summary.text()), timeout=60_000)
    views = len(VIEW_WIDTHS)  # the photo's face is also kept as a door camera sees it
    person = window.gallery.store.person(LIN)
    assert (person.sample_count, person.view_count) == (2 + 1 + views, views)
    summary = window.people.summary.text()
    assert summary.startswith(f"{1 + views} sample(s) added to {LIN} ({views} of them the photos' faces as a door camera")
    assert "not used: " in summary and "notes.txt" in summary  # the unusable file is named
    assert window.people.list.item(0).text() == f"{LIN}\n{3 + views} samples ({views} photo views)"

    window.people.select(LIN)
    dialog = SamplesDialog(window.people, window.gallery.store.person(LIN))
    assert dialog.list.count() == 3  # the views stand behind their photo
    assert "lin-manuel-miranda.png" in dialog.list.item(2).text()
    assert dialog.list.item(2).text().endswith(f"+ {views} camera views")
    assert "camera views" not in dialog.list.item(0).text()  # a clip frame has none
    dialog.list.setCurrentRow(2)
    asked = []
    _answer_next_dialog(qtbot, lambda box: (asked.append(box.text()), box.button(QMessageBox.StandardButton.Yes).click()))
    dialog.remove()
    assert f"and its {views} camera views" in asked[0]
    assert dialog.list.count() == 2
    person = window.gallery.store.person(LIN)
    assert (person.sample_count, person.view_count) == (2, 0)  # no view of the removed photo is left to name anyone
    assert window.people.list.item(0).text() == f"{LIN}\n2 samples"
    dialog.close()


def test_allowed_tick_lets_in_or_keeps_out_and_goes_back_when_the_pin_is_refused(qtbot, live_window):
    from core.gallery.admin import AdminLock
    from gui.admin_dialog import install_admin

    window, _ = live_window
    _enroll_from_clip(window.gallery, frames=(150,))
    window.people.reload()
    tick = window.people.allowed
    assert not tick.isEnabled()  # nobody selected yet
    window.people.select(LIN)
    assert tick.isEnabled() and tick.isChecked()

    tick.click()  # keep him out
    assert not window.gallery.store.person(LIN).allowed and not tick.isChecked()
    assert window.people.list.item(0).text() == f"{LIN}\n1 samples, not allowed"
    tick.click()  # let him in again
    assert window.gallery.store.person(LIN).allowed and tick.isChecked()

    AdminLock(window.gallery.store).set_secret("2468")
    install_admin(window).relock()
    _answer_next_dialog(qtbot, lambda dialog: dialog.reject())  # the operator cancels the PIN
    tick.click()
    assert window.gallery.store.person(LIN).allowed and tick.isChecked()


def test_own_threshold_offers_only_stricter_values_refuses_a_looser_one_and_shows_in_the_list(qtbot, live_window):
    window, _ = live_window
    _enroll_from_clip(window.gallery, frames=(150,))
    window.people.reload()
    window.people.select(LIN)
    offered = {}

    def answer(value: float):
        def respond(dialog: QInputDialog):
            offered["max"] = dialog.doubleMaximum()
            dialog.setDoubleValue(value)
            dialog.accept()

        return respond

    _answer_next_dialog(qtbot, answer(0.3))
    window.people.ask_threshold()
    assert offered["max"] < 0.4  # the door's decision threshold
    assert window.gallery.store.person(LIN).threshold == pytest.approx(0.3)
    assert window.people.list.item(0).text() == f"{LIN}\n1 samples, own threshold 0.3"

    said = []
    _answer_next_dialog(qtbot, lambda box: (said.append(box.text()), box.accept()))
    assert not window.people.set_threshold(LIN, 0.45)  # looser than the door's: refused, said why
    assert "stricter than the door's 0.4" in said[0]
    assert window.gallery.store.person(LIN).threshold == pytest.approx(0.3)

    _answer_next_dialog(qtbot, answer(0.0))  # 0: the door's threshold again
    window.people.ask_threshold()
    assert window.gallery.store.person(LIN).threshold is None
    assert window.people.list.item(0).text() == f"{LIN}\n1 samples"


def test_photos_dropped_on_the_panel_become_samples_of_the_selected_person(qtbot, live_window):
    from test_gui_pages import drop_files

    window, _ = live_window
    _enroll_from_clip(window.gallery, frames=(150,))
    window.people.reload()
    window.people.list.setCurrentRow(-1)
    assert drop_files(window.people, [IMAGES / "lin-manuel-miranda.png"])
    assert "Select the person" in window.people.summary.text() and not window.people.jobs.busy
    window.people.select(LIN)
    assert drop_files(window.people, [IMAGES / "lin-manuel-miranda.png"])
    qtbot.waitUntil(lambda: not window.people.jobs.busy and "added" in window.people.summary.text(), timeout=60_000)
    assert window.gallery.store.person(LIN).sample_count == 2 + len(VIEW_WIDTHS)
