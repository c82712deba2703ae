"""The OSDP reader output in the real window (offscreen): chosen on the Door page (a bad key
refused, naming it), the status bar shows the access panel online, its LED, text and answer to a
card read as it commands them, PANEL OFFLINE when it falls silent, and online again."""

from __future__ import annotations

import osdp

from core.door.base import Holder
from core.door.osdp import OsdpReader
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
