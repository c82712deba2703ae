"""FaceGate as an OSDP reader behind a real access panel: libosdp's ControlPanel on one end of a
pty pair made here, the Station's reader (core.door.osdp) on the other, secure channel enforced.
The clip played as a camera through the real Station: Lin-Manuel's grant reaches the panel as a
card read of his number in the configured layout, the stranger's face sends nothing; a denied
face sends nothing; the panel's LED and text reach the reader's state and its green answer the
access log; a silent panel shows offline (on the reader and in what `facegate status` says),
nothing is sent (nor queued) meanwhile, and it recovers; a duress-PIN grant sends the same card
read and then trips the reader's tamper at the panel (a normal PIN grant does not), unseen on
the screen, and trips it at once when the door is still in its cooldown; the installer's spec
bundles libosdp's compiled module."""

from __future__ import annotations

import importlib.util
import logging
import re
import threading
import time

import osdp
import pytest

from core.door.base import DoorSettings, Holder
from core.door.card_formats import decode
from core.door.factors import access_change
from core.door.osdp import ALARM_SECONDS, OsdpReader
from core.door.verdict import Verdict
from core.live.worker import InlineWorker
from core.service import heartbeat
from core.service.monitor import LoopState, Surroundings
from core.station import Station
from tests.support.cli import facegate
from tests.support.data import ROOT
from tests.support.osdp import SCBK, PanelBus

LIN = "Lin-Manuel"
PIN, DURESS = "4821", "4822"


@pytest.fixture
def bus():
    with PanelBus() as b:
        yield b


def _station(gallery, bus, **door) -> Station:
    """The Station of a gallery whose door output is the OSDP reader on ``bus``, ready (the panel
    polling it over the secure channel)."""
    settings = {"osdp_format": "h10301", "osdp_facility": 42, **door}
    DoorSettings(driver="osdp", osdp_port=bus.port, osdp_scbk=SCBK.hex(), osdp_offline_seconds=1.0, **settings).save(
        gallery.store
    )
    station = Station(gallery, descriptor_worker=InlineWorker(gallery.describer))
    assert isinstance(station.door, OsdpReader), station.problems
    return station


def _ready(panel, reader: OsdpReader) -> None:
    assert panel.secure(), "the panel never brought the reader online over the secure channel"
    _wait(lambda: reader.status().state == "locked", "the reader never saw the panel")


def _wait(condition, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def _play(station: Station, clip, start: int = 0, stop: int | None = None) -> None:
    for i, rgb in enumerate(clip[start:stop], start=start):
        station.recognizer.process(rgb, i / 30)
    station.decider.flush()


def _threads() -> set[str]:
    return {t.name for t in threading.enumerate()}


def test_the_clips_grant_arrives_as_his_card_read_and_the_panels_answer_is_logged(lin_gallery, bus, clip):
    lin_gallery.set_cards([(LIN, "1001")])
    panel = bus.panel(answer=osdp.CommandLEDColor.Green)  # a panel that grants every card it reads
    station = _station(lin_gallery, bus, osdp_format="h10304")
    reader = station.door
    try:
        _ready(panel, reader)
        _play(station, clip)
        read = panel.card_read(timeout=5)
        assert read is not None and read.length == 37
        assert decode(read, "h10304") == (42, 1001)
        assert panel.card_read(timeout=1.0) is None  # one card read: the stranger's face sent nothing
        grants = [e for e in station.decider.access_log.events() if e.verdict == Verdict.GRANTED]
        assert [(e.name, e.door) for e in grants] == [(LIN, "card 1001 sent to the panel")]

        _wait(lambda: reader.panel().answer == "granted" and reader.panel().led == "green", "the panel's answer")
        assert panel.text("ACCESS GRANTED")
        _wait(lambda: reader.panel().text == "ACCESS GRANTED", "the panel's text")
        status = panel.local_status()
        assert status is not None and status["report"] == bytes([0, 0])  # tamper and power normal
        station.decider.flush()
        logged = [e for e in station.decider.access_log.events() if e.verdict == Verdict.PANEL_GRANTED]
        assert len(logged) == 1 and logged[0].name == LIN and "card 1001" in logged[0].reason
    finally:
        station.close()
    assert not {"osdp-watch", "pd", "door-osdp"} & _threads()  # libosdp's loop and the watcher stopped


def test_a_denied_face_and_a_person_without_a_card_send_nothing(lin_gallery, bus, clip, caplog):
    lin_gallery.set_cards([(LIN, "1001")])
    lin_gallery.set_allowed(LIN, False)
    panel = bus.panel()
    station = _station(lin_gallery, bus)
    reader = station.door
    try:
        _ready(panel, reader)
        _play(station, clip, 80, 140)
        verdicts = [e.verdict for e in station.decider.access_log.events() if e.name == LIN]
        assert verdicts == [Verdict.DENIED]
        assert panel.card_read(timeout=1.5) is None

        with caplog.at_level(logging.WARNING, logger="facegate.door"):
            assert reader.unlock(Holder(1, "Ada", None)) == "nothing sent: Ada has no card number"
        assert "Ada was granted but has no card number" in caplog.text
        assert reader.unlock(None).startswith("nothing sent")  # a manual unlock: the panel opens its door
        assert reader.unlock(Holder(1, "Ada", "70000")).startswith("nothing sent: card 70000 does not fit 26-bit H10301")
        assert panel.card_read(timeout=1.0) is None and reader.status().pulses == 0
    finally:
        station.close()


def test_a_silent_panel_shows_offline_nothing_is_queued_and_it_recovers(lin_gallery, bus):
    lin_gallery.set_cards([(LIN, "1001")])
    panel = bus.panel()
    station = _station(lin_gallery, bus)
    reader = station.door
    seen: list[str] = []
    reader.add_listener(lambda status: seen.append(status.state))
    try:
        _ready(panel, reader)
        panel.stop()  # the panel goes silent (a cut bus, a panel rebooting)
        _wait(lambda: reader.status().state == "offline", "the silent panel never showed offline", timeout=5)
        assert reader.status().error == "panel offline: not heard for 1 s"
        assert not reader.panel().online and not reader.panel().secure
        monitor = station.supervise(lambda: Surroundings(LoopState(), station.door_status(), station.door.driver))
        db = lin_gallery.store.path
        heartbeat.write(heartbeat.heartbeat_path(db), monitor.beat())  # what the running app writes each second
        status = facegate("status", "--db", db)
        assert status.returncode == 1  # unhealthy
        assert "door   : offline (osdp) - panel offline: not heard for 1 s" in status.stdout
        assert "problem: door: panel offline" in status.stdout
        holder = Holder(lin_gallery.store.person(LIN).id, LIN, "1001")
        assert reader.unlock(holder) == "nothing sent: the access panel is offline"

        again = bus.panel()  # the panel is back
        _ready(again, reader)
        back = seen.index("offline")  # it went offline, and is back with the secure channel up
        assert "locked" in seen[back:] and seen[-1] == "locked" and reader.status().error is None
        assert again.card_read(timeout=1.0) is None  # the read refused while offline never arrives late
        assert reader.unlock(holder) == "card 1001 sent to the panel"
        read = again.card_read(timeout=5)
        assert read is not None and decode(read, "h10301") == (42, 1001)
    finally:
        station.close()


def _play_with_pin(station: Station, clip, pin: str, offset: float) -> list:
    """The clip through the station, ``pin`` typed on the keypad when the door asks for it;
    Lin-Manuel's decisions as the screen showed them."""
    shown, typed = [], []
    for i, rgb in enumerate(clip):
        for view in station.recognizer.process(rgb, offset + i / 30).tracks:
            d = view.decision
            if d is not None and d.person == LIN:
                shown.append(d)
                if d.verdict == Verdict.AWAITING_PIN and not typed:
                    typed.append(station.decider.enter_pin(pin))
    station.recognizer.reset()  # the visit ends, as when the camera stops
    station.decider.flush()
    assert typed == [""], typed
    return shown


def test_a_duress_pin_grant_sends_the_same_card_read_and_trips_the_readers_tamper_at_the_panel(lin_gallery, bus, clip):
    lin_gallery.set_cards([(LIN, "1001")])
    change = access_change("face+pin", PIN, DURESS, *lin_gallery.store.pins(lin_gallery.store.person(LIN).id))
    lin_gallery.store.set_access(LIN, change.access, change.pin, change.duress_pin)
    panel = bus.panel()
    # a 1 s pulse and no cooldown: the second visit finds the door free however fast the machine
    # plays the clip (a duress PIN while the door is busy: the test below)
    station = _station(lin_gallery, bus, pulse_seconds=1.0, cooldown_seconds=0.0)
    reader = station.door
    try:
        _ready(panel, reader)
        normal = _play_with_pin(station, clip, PIN, 0.0)
        read = panel.card_read(timeout=5)
        assert read is not None and decode(read, "h10301") == (42, 1001)
        assert panel.status(timeout=1.5) is None  # a normal grant: no alarm
        screen = reader.panel(), reader.status()

        duress = _play_with_pin(station, clip, DURESS, 100.0)
        read = panel.card_read(timeout=5)
        assert read is not None and decode(read, "h10301") == (42, 1001)  # the very same card read
        tamper = panel.status(timeout=5)
        assert tamper is not None and tamper["type"] == osdp.StatusReportType.Local and tamper["report"] == bytes([1, 0])
        restored = panel.status(timeout=ALARM_SECONDS + 5)
        assert restored is not None and restored["report"] == bytes([0, 0])

        # the screen: the same words as for his PIN, and nothing new on the reader's panel state
        # (the liveness scores in the reason vary between two plays of the clip; the words do not)
        shown = {(d.verdict, d.door, d.reason.endswith("; PIN entered")) for d in duress if d.final}
        assert shown == {(d.verdict, d.door, d.reason.endswith("; PIN entered")) for d in normal if d.final}
        assert shown == {(Verdict.GRANTED, "card 1001 sent to the panel", True)}
        assert Verdict.DURESS not in {d.verdict for d in duress}
        assert (reader.panel(), reader.status().state, reader.status().error) == (screen[0], screen[1].state, screen[1].error)
        logged = [e.verdict for e in reversed(station.decider.access_log.events(person=LIN, limit=None))]
        assert logged == [Verdict.GRANTED, Verdict.GRANTED, Verdict.DURESS]
    finally:
        station.close()


def test_a_duress_pin_taken_while_the_door_is_busy_raises_the_alarm_at_once(lin_gallery, bus, clip):
    """The door is in its cooldown for the whole second visit (someone was just let in): the
    duress PIN still trips the tamper at the panel and logs the alarm when it is taken, not when
    the door is free again - this visit ends first, and must not swallow the alarm."""
    lin_gallery.set_cards([(LIN, "1001")])
    change = access_change("face+pin", PIN, DURESS, *lin_gallery.store.pins(lin_gallery.store.person(LIN).id))
    lin_gallery.store.set_access(LIN, change.access, change.pin, change.duress_pin)
    panel = bus.panel()
    station = _station(lin_gallery, bus, cooldown_seconds=600.0)
    reader = station.door
    try:
        _ready(panel, reader)
        _play_with_pin(station, clip, PIN, 0.0)
        read = panel.card_read(timeout=5)
        assert read is not None and decode(read, "h10301") == (42, 1001)

        duress = _play_with_pin(station, clip, DURESS, 100.0)
        assert {d.door.split(" (")[0] for d in duress if d.verdict == Verdict.GRANTED} == {"cooldown"}
        assert not any(d.final for d in duress)  # the door never opened for this visit
        tamper = panel.status(timeout=5)
        assert tamper is not None and tamper["type"] == osdp.StatusReportType.Local and tamper["report"] == bytes([1, 0])
        assert panel.card_read(timeout=1.0) is None  # nothing opened
        logged = [e for e in reversed(station.decider.access_log.events(person=LIN, limit=None))]
        assert [e.verdict for e in logged] == [Verdict.GRANTED, Verdict.DURESS]
        assert "the door was busy" in logged[-1].reason and DURESS not in logged[-1].reason
    finally:
        station.close()


def test_the_installers_spec_bundles_libosdps_compiled_module():
    spec = (ROOT / "packaging" / "facegate.spec").read_text()
    listed = re.search(r"^OSDP_MODULES = \[(.*)\]$", spec, re.M)
    assert listed is not None and "*OSDP_MODULES" in spec.split("hiddenimports=")[1].split("\n")[0]
    names = re.findall(r'"([\w.]+)"', listed.group(1))
    assert names == ["osdp", "osdp_sys"]
    compiled = importlib.util.find_spec("osdp_sys")  # what PyInstaller will copy: the extension itself
    assert compiled is not None and compiled.origin is not None and compiled.origin.endswith(".so")
    import osdp

    assert osdp.PeripheralDevice.__module__.startswith("osdp") and "osdp_sys" in vars(osdp.peripheral_device)
