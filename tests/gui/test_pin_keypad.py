"""The PIN keypad in the real window (offscreen), driven by clicks on its buttons while the clip
plays through the door: it shows only while the door asks Lin-Manuel for his PIN, a wrong PIN is
refused on it, his PIN opens; the duress PIN opens too and every text and overlay the window
shows is the same as for his PIN (the alarm is in the access log only). And a USB HID card
reader's keys, typed into the window, open for a face+card person."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel

from core.door.access_log import AccessLog
from core.door.factors import access_change
from core.door.verdict import Verdict
from core.station import Station
from gui.main_window import build_window
from gui.pin_keypad import OK
from tests.support.window import Recording, play

LIN = "Lin-Manuel"
PIN, DURESS = "4821", "4822"


def open_window(qtbot, gallery, folder):
    """The window over ``gallery``; each frame is shown (and what the test does on it done)
    before the next is processed."""
    window = build_window(
        Station(gallery), QSettings(str(folder / "facegate.ini"), QSettings.Format.IniFormat), pace=False, loop=False
    )
    window.lockstep = True
    qtbot.addWidget(window)
    recording = Recording()
    window.frame_shown.connect(recording)
    window.show()
    return window, recording


@pytest.fixture
def lin_window(qtbot, lin_gallery, tmp_path):
    window, recording = open_window(qtbot, lin_gallery, tmp_path)
    yield window, recording
    window.close()


def set_access(gallery, access: str, pin: str | None = None, duress: str | None = None) -> None:
    change = access_change(access, pin, duress, None, None)
    gallery.store.set_access(LIN, change.access, change.pin, change.duress_pin)


def screen(window, shown) -> tuple:
    """Everything the window shows in words: each visible label (the frame rate and latency
    aside, and numbers as #), the status bar's message, and each face's caption and colour."""
    skip = {window.fps_label, window.latency_label, window.door_pages.indicator.state}  # timing, not the decision
    labels = sorted(
        re.sub(r"\d", "#", w.text()) for w in window.findChildren(QLabel) if w.isVisible() and w not in skip and w.text()
    )
    faces = [(t.label, t.state) for t in shown.result.tracks]
    return tuple(labels), window.statusBar().currentMessage(), tuple(faces), window.door_pages.keypad.isVisible()


def run_with_pins(qtbot, window, recording, pins: list[str]) -> list[tuple]:
    """Play the clip, typing each of ``pins`` on the keypad (a click per key) on the next frames it
    shows and takes keys (it waits while a PIN is checked); the screens from the first frame that
    shows the grant on."""
    keypad = window.door_pages.keypad
    screens: list[tuple] = []
    asked: list[int] = []
    typed = iter(pins)

    def on_frame(shown) -> None:
        if keypad.isVisible():
            asked.append(shown.source_index)
            pin = next(typed, None) if keypad.isEnabled() else None  # not while the last one is checked
            if pin is not None:
                for key in [*pin, OK]:
                    qtbot.mouseClick(keypad.buttons[key], Qt.MouseButton.LeftButton)
        if screens or "Granted" in window.door_pages.indicator.decision.text():
            screens.append(screen(window, shown))

    window.frame_shown.connect(on_frame)
    play(qtbot, window, recording)
    window.frame_shown.disconnect(on_frame)
    assert asked, "the keypad never showed"
    return screens


def test_keypad_pin_opens_and_the_duress_pin_looks_the_same(qtbot, lin_gallery, tmp_path):
    gallery = lin_gallery
    set_access(gallery, "face+pin", PIN, DURESS)
    window, recording = open_window(qtbot, gallery, tmp_path)
    keypad = window.door_pages.keypad
    assert not keypad.isVisible()
    normal = run_with_pins(qtbot, window, recording, ["1111", PIN])
    assert normal and normal[0][0].count(f"{LIN}: Granted (unlocking)") == 1
    qtbot.waitUntil(lambda: "DOOR OPEN" in window.door_pages.indicator.state.text() or window.station.door.status().pulses == 1)
    assert window.station.door.status().pulses == 1 and not keypad.isVisible()
    window.station.decider.flush()
    assert [e.verdict for e in reversed(AccessLog(gallery.store).events(person=LIN, limit=None))] == [
        Verdict.WRONG_PIN,
        Verdict.GRANTED,
    ]

    window.close()

    window, recording = open_window(qtbot, gallery, tmp_path)  # the same door, started again
    duress = run_with_pins(qtbot, window, recording, [DURESS])
    assert duress[0] == normal[0]  # the screen the grant shows, word for word and face for face
    shown_words = " ".join(" ".join(s[0]) + s[1] for s in duress).lower()
    assert "duress" not in shown_words and "alarm" not in shown_words
    window.station.decider.flush()
    newest = AccessLog(gallery.store).events(person=LIN, limit=2)
    assert [e.verdict for e in newest] == [Verdict.DURESS, Verdict.GRANTED]
    qtbot.waitUntil(lambda: window.station.door.status().pulses == 1)
    window.close()


def test_a_usb_card_reader_typing_into_the_window_opens_for_face_and_card(qtbot, lin_window):
    window, recording = lin_window
    gallery = window.gallery
    gallery.set_cards([(LIN, "1234567")])
    set_access(gallery, "face+card")
    handle = window.windowHandle()
    swiped: list[int] = []

    def on_frame(shown) -> None:
        awaiting = [t for t in shown.result.tracks if t.decision is not None and t.decision.verdict == Verdict.AWAITING_CARD]
        if awaiting and not swiped:
            assert "Present card" in window.door_pages.indicator.decision.text() and not window.door_pages.keypad.isVisible()
            swiped.append(shown.source_index)
            for c in "1234567":  # the reader's burst, as key presses the window system delivers
                QTest.keyClick(handle, c)
            QTest.keyClick(handle, Qt.Key.Key_Return)

    window.frame_shown.connect(on_frame)
    play(qtbot, window, recording)
    assert swiped
    window.station.decider.flush()
    granted = AccessLog(gallery.store).events(person=LIN, verdict=Verdict.GRANTED)
    assert len(granted) == 1 and granted[0].reason.endswith("; card presented")


def test_the_kiosk_keypad_is_in_its_letters_and_opens_the_door(qtbot, lin_gallery, tmp_path):
    from gui.kiosk import Kiosk

    set_access(lin_gallery, "face+pin", PIN)
    window, recording = open_window(qtbot, lin_gallery, tmp_path)
    kiosk = Kiosk(window)
    kiosk.show()
    keypad = window.door_pages.keypad
    try:
        keypad.ask(True)  # as a frame asking for a PIN shows it
        assert f"font-size: {kiosk.px}px" in keypad.styleSheet()
        assert window.video.rect().contains(keypad.geometry())
        assert all(b.height() >= kiosk.px for b in keypad.buttons.values())  # tappable from the door
        keypad.ask(False)
        run_with_pins(qtbot, window, recording, [PIN])
        qtbot.waitUntil(lambda: window.station.door.status().pulses == 1)
    finally:
        kiosk.leave(0)
