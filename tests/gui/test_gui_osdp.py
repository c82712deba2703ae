"""The OSDP reader output in the real window (offscreen): chosen on the Door page (a bad key
refused, naming it), the status bar shows the access panel online, its LED, text and answer to a
card read as it commands them, PANEL OFFLINE when it falls silent, and online again; the People
page gives a person a card number, and names a bad one without changing anything."""

from __future__ import annotations

import numpy as np
import osdp
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QInputDialog, QMessageBox

from core.door.base import Holder
from core.door.osdp import OsdpReader
from core.gallery.store import NewSample
from tests.support.osdp import SCBK, PanelBus


def test_the_door_page_chooses_the_reader_and_the_screen_shows_the_panel(qtbot, live_window):
    window, _ = live_window
    pages = window.door_pages
    with PanelBus() as bus:
        panel = bus.panel(answer=osdp.CommandLEDColor.Green)
        settings = pages.settings_page
        settings.driver.setCurrentText("osdp")
        form = settings.per_driver["osdp"].widgets
        assert not settings.common.isHidden() and "osdp_port" not in settings.common.widgets
        form["osdp_port"].setText(bus.port)
        form["osdp_scbk"].setText("0011")
        assert not settings.apply() and "SCBK" in settings.message.text()
        assert not isinstance(pages.door, OsdpReader)  # nothing changed
        form["osdp_scbk"].setText(SCBK.hex())
        form["osdp_facility"].setValue(42)
        form["osdp_offline_seconds"].setValue(1.0)
        assert settings.apply()
        reader = pages.door
        assert isinstance(reader, OsdpReader) and window.station.decider.door is reader
        indicator = pages.indicator
        assert panel.secure()
        qtbot.waitUntil(lambda: indicator.state.text() == "Panel online (osdp reader)", timeout=10_000)
        assert indicator.panel.isVisible()

        assert panel.led(osdp.CommandLEDColor.Red)
        qtbot.waitUntil(lambda: indicator.panel.text() == "Panel LED red", timeout=10_000)
        assert "#c62828" in indicator.panel.styleSheet()
        assert panel.text("SEE RECEPTION")
        qtbot.waitUntil(lambda: indicator.panel.text() == "Panel: SEE RECEPTION", timeout=10_000)

        assert reader.unlock(Holder(1, "Ada", "1001")) == "card 1001 sent to the panel"
        qtbot.waitUntil(lambda: indicator.panel.text() == "Panel: ACCESS GRANTED", timeout=10_000)
        assert "#2e7d32" in indicator.panel.styleSheet()
        assert panel.card_read(timeout=1) is not None

        panel.stop()
        qtbot.waitUntil(lambda: indicator.state.text().startswith("PANEL OFFLINE (osdp reader)"), timeout=10_000)
        assert "not heard for 1 s" in indicator.state.text()
        again = bus.panel()
        assert again.secure()
        qtbot.waitUntil(lambda: indicator.state.text() == "Panel online (osdp reader)", timeout=10_000)
        window.close()  # the reader's threads stop with the station, before the bus closes


def test_the_people_page_gives_a_card_number_and_names_a_bad_one(qtbot, live_window):
    window, _ = live_window
    vector = np.random.default_rng(1).normal(size=128).astype(np.float32)
    window.gallery.enroll_samples("Ada", [NewSample(vector / np.linalg.norm(vector) * 0.6, None, "test")])
    people = window.people
    people.reload()
    people.select("Ada")
    _answer(["1001"])
    people.set_card()
    assert window.gallery.store.person("Ada").card == "1001" and "card 1001" in people.list.item(0).text()

    warned: list[str] = []
    _answer(["12x", warned])  # the number typed, then the warning read and closed
    people.select("Ada")
    people.set_card()
    assert warned and "'12x' is not a card number" in warned[0]
    assert window.gallery.store.person("Ada").card == "1001"  # unchanged


def _answer(steps: list) -> None:
    """Answer the modal dialogs the next action opens, in order: text for an input dialog, a list
    to note a message box's text in (and close it)."""

    def respond():
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(20, respond)
            return
        step = steps.pop(0)
        if isinstance(dialog, QInputDialog) and isinstance(step, str):
            dialog.setTextValue(step)
            dialog.accept()
        elif isinstance(dialog, QMessageBox) and isinstance(step, list):
            step.append(dialog.text())
            dialog.accept()
        if steps:
            QTimer.singleShot(20, respond)

    QTimer.singleShot(0, respond)
