"""The door in the real window (offscreen): the clip's visitors reach the Access log page with
snapshots, the indicator follows the door, the Door page applies and refuses settings; and the
log page's filters, CSV export and "not this person" as a real widget."""

from __future__ import annotations

import sys

from PySide6.QtCore import Qt

from core.door.access_log import AccessEvent, AccessLog, read_csv
from core.door.decide import DoorDecider
from core.door.drivers import CommandDoor, SimulatedDoor
from core.door.guard import GuardedDoor
from core.door.schedule import Schedules
from core.door.verdict import Verdict
from core.vision.images import crop, encode_jpeg, load_image
from tests.support.data import IMAGES
from tests.support.window import play


def _wait(qtbot, predicate, timeout=10_000):
    qtbot.waitUntil(predicate, timeout=timeout)


def test_window_logs_the_clips_visitors_and_applies_door_settings(qtbot, live_window, tmp_path):
    window, recording = live_window
    pages = window.door_pages
    titles = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    assert "Access log" in titles and "Door" in titles
    assert isinstance(window.recognizer.decider, DoorDecider) and isinstance(pages.door, SimulatedDoor)
    assert "Door locked (simulated)" in pages.indicator.state.text()

    play(qtbot, window, recording)
    log_page = pages.log_page
    _wait(qtbot, lambda: log_page.table.rowCount() > 0)
    verdicts = [log_page.table.item(r, 2).text() for r in range(log_page.table.rowCount())]
    assert verdicts and set(verdicts) == {Verdict.UNKNOWN}  # nobody is enrolled: every visitor is unknown
    log_page.table.selectRow(0)
    assert log_page.snapshot.pixmap() is not None and not log_page.snapshot.pixmap().isNull()
    assert not log_page.not_this.isEnabled()  # an unknown visitor matched nobody
    exported = tmp_path / "log.csv"
    assert log_page.export(str(exported)) == len(verdicts) == len(read_csv(exported))

    settings = pages.settings_page
    settings.driver.setCurrentText("http")
    settings.per_driver["http"].widgets["http_unlock_url"].setText("ftp://lock")
    assert not settings.apply() and "http_unlock_url" in settings.message.text()
    assert isinstance(pages.door, SimulatedDoor)  # nothing changed

    journal = tmp_path / "journal.txt"
    write = f"{sys.executable} -c \"import sys; open({str(journal)!r}, 'a').write(sys.argv[1] + '\\n')\""
    settings.driver.setCurrentText("command")
    settings.per_driver["command"].widgets["command_unlock"].setText(f"{write} open")
    settings.per_driver["command"].widgets["command_lock"].setText(f"{write} lock")
    settings.common.widgets["pulse_seconds"].setValue(0.2)
    assert settings.apply()
    assert isinstance(pages.door, GuardedDoor) and pages.door.driver == "command"
    assert pages.decider.door is pages.door
    assert pages.test_unlock() == "unlocking"
    _wait(qtbot, lambda: journal.exists() and journal.read_text().split()[-2:] == ["open", "lock"])
    _wait(qtbot, lambda: log_page.table.item(0, 2).text() == "Manual unlock")  # logged, and shown at once
    _wait(qtbot, lambda: "Door locked (command)" in pages.indicator.state.text())
    assert '"driver": "command"' in window.gallery.store.get_setting("door")


def test_an_entry_that_arrives_after_the_window_closed_is_dropped(qtbot, live_window):
    """An entry the decider logged just before the window closed can reach the pages after the
    gallery closed (seen once in a loaded run: the Recent page read a closed database). The
    pages drop it, and the decider no longer calls into them."""
    window, _ = live_window
    pages = window.door_pages
    decider = window.recognizer.decider
    assert pages.logged.emit in decider.on_logged
    window.close()
    assert pages.logged.emit not in decider.on_logged and pages.learned.emit not in decider.recent.on_learned
    window.gallery.close()
    pages.logged.emit(AccessEvent(Verdict.UNKNOWN, reason="late", visitor_id=1))
    pages.learned.emit(7)
    qtbot.wait(100)  # delivered: an exception in a slot would fail the test here


def test_schedule_editor_saves_and_refuses(qtbot, knn_gallery):
    from gui.schedule_editor import ScheduleEditor

    editor = ScheduleEditor(knn_gallery)
    qtbot.addWidget(editor)
    editor.person.setCurrentText("biden")
    editor.windows.setText("Mon-Tue 08:00-18:00")
    assert editor.save()
    biden = knn_gallery.store.person("biden").id
    assert [str(w) for w in Schedules(knn_gallery.store).windows(biden)] == ["Mon 08:00-18:00", "Tue 08:00-18:00"]
    editor.windows.setText("Mon 8-9")
    assert not editor.save() and "Mon-Fri 08:00-18:00" in editor.message.text()
    editor.person.setCurrentText("obama")
    assert editor.windows.text() == ""
    editor.person.setCurrentText("biden")
    assert editor.windows.text() == "Mon 08:00-18:00, Tue 08:00-18:00"  # the refused text was not saved


def test_log_page_filters_exports_and_marks_not_this_person(qtbot, knn_gallery, tmp_path):
    from gui.log_page import LogPage

    rgb = load_image(IMAGES / "lin-manuel-miranda.png")
    face = knn_gallery.faces(rgb)[0]
    obama = knn_gallery.store.person("obama")
    log = AccessLog(knn_gallery.store)
    wrong = log.record(
        AccessEvent(
            "Granted",
            "obama",
            obama.id,
            "a wrong match",
            0.705,
            0.07,
            door="unlocking",
            descriptor=face.descriptor,
            snapshot=encode_jpeg(crop(rgb, face.box)),
        )
    )
    log.record(AccessEvent(Verdict.UNKNOWN, reason="nobody near", distance=0.8))
    page = LogPage(knn_gallery)
    qtbot.addWidget(page)
    assert page.table.rowCount() == 2
    page.unknown.setChecked(True)
    assert page.table.rowCount() == 1 and page.table.item(0, 1).text() == "unknown visitor"
    page.unknown.setChecked(False)
    page.person.setText("obama")
    qtbot.keyClick(page.person, Qt.Key.Key_Return)
    assert page.table.rowCount() == 1
    assert page.export(str(tmp_path / "obama.csv")) == 1

    page.table.selectRow(0)
    assert not page.snapshot.pixmap().isNull() and page.not_this.isEnabled()
    knn_gallery.threshold = 0.75
    assert knn_gallery.identify_descriptor(face.descriptor).name == "obama"
    with qtbot.waitSignal(page.gallery_changed, timeout=5000):
        qtbot.mouseClick(page.not_this, Qt.MouseButton.LeftButton)
    assert knn_gallery.identify_descriptor(face.descriptor).name != "obama"
    assert log.event(wrong).not_this_person and "not this person" in page.table.item(0, 2).text()


def test_indicator_shows_a_pulse_and_a_failure(qtbot, tmp_path):
    from gui.door_indicator import DoorIndicator

    door = SimulatedDoor(pulse_seconds=0.5, cooldown_seconds=0)
    indicator = DoorIndicator(door)
    qtbot.addWidget(indicator)
    try:
        door.unlock()
        _wait(qtbot, lambda: "DOOR OPEN" in indicator.state.text())
        _wait(qtbot, lambda: "Door locked" in indicator.state.text())
    finally:
        door.close()
    failing = CommandDoor(f"{sys.executable} -c \"import sys; sys.exit('jammed')\"", pulse_seconds=0.2)
    indicator.watch(failing)
    try:
        failing.unlock()
        _wait(qtbot, lambda: "jammed" in indicator.state.text())
        assert "c62828" in indicator.state.styleSheet()
    finally:
        failing.close()


def test_log_page_shows_and_filters_by_the_door_pcs_own_clock(qtbot, gallery, monkeypatch):
    """Times are stored in UTC; the page shows them on the local clock, and "since" a day means
    from that day's local midnight (here UTC-5: 03:00 UTC on the 2nd is 22:00 on the 1st)."""
    import time as clock

    from PySide6.QtCore import QDate

    from gui.log_page import LogPage

    monkeypatch.setenv("TZ", "EST+5")
    clock.tzset()
    try:
        log = AccessLog(gallery.store)
        log.record(AccessEvent(Verdict.UNKNOWN, reason="late on the 1st", time="2026-03-02T03:00:00.000+00:00"))
        log.record(AccessEvent(Verdict.UNKNOWN, reason="morning of the 2nd", time="2026-03-02T14:30:00.000+00:00"))
        page = LogPage(gallery)
        qtbot.addWidget(page)
        times = sorted(page.table.item(r, 0).text() for r in range(page.table.rowCount()))
        assert times == ["2026-03-01 22:00:00", "2026-03-02 09:30:00"]
        page.since.setDate(QDate(2026, 3, 2))
        page.use_since.setChecked(True)
        assert page.table.rowCount() == 1 and page.table.item(0, 6).text() == "morning of the 2nd"
        page.since.setDate(QDate(2026, 3, 1))
        assert page.table.rowCount() == 2
    finally:
        monkeypatch.undo()
        clock.tzset()


def test_every_setting_on_the_door_page_has_a_label(qtbot):
    """The page builds its forms from the settings' fields; a field without a label showed its
    Python name ("factor_timeout") to the operator."""
    from dataclasses import fields

    from core.door.base import DoorSettings
    from core.door.events import EventSettings
    from core.door.policy import DecisionSettings
    from gui.door_settings import LABELS, DoorSettingsPage

    page = DoorSettingsPage(DoorSettings(), DecisionSettings())
    qtbot.addWidget(page)
    shown = [*page.decision_form.widgets, *page.events_form.widgets]
    assert "room_required" in shown and "factor_timeout" in shown
    unlabelled = [f.name for c in (DoorSettings, DecisionSettings, EventSettings) for f in fields(c) if f.name not in LABELS]
    assert unlabelled == ["driver"], unlabelled  # the driver is chosen by its own drop-down


def test_door_page_sets_where_events_go_out(qtbot, gallery, tmp_path):
    from core.door.base import DoorSettings
    from core.door.event_settings import EventSettings
    from core.door.policy import DecisionSettings
    from gui.door_settings import DoorSettingsPage

    page = DoorSettingsPage(DoorSettings(), DecisionSettings(), EventSettings())
    qtbot.addWidget(page)
    applied = []
    page.applied.connect(lambda *settings: applied.append(settings))
    form = page.events_form.widgets
    form["webhook_url"].setText("ftp://nowhere")
    assert not page.apply() and "webhook URL" in page.message.text() and not applied
    form["webhook_url"].setText("http://127.0.0.1:8123/api/webhook/door")
    form["mqtt_password"].setText("secret")
    assert form["mqtt_password"].echoMode() == form["mqtt_password"].EchoMode.Password
    assert page.apply()
    ((_door, _decision, events),) = applied
    assert events.webhook_url.endswith("/webhook/door") and events.mqtt_password == "secret" and events.mqtt_host == ""


def test_visitors_page_lists_visitors_and_enrolls_one_from_all_their_faces(qtbot, gallery):
    from core.door.visitors import Visitors
    from gui.visitors_page import VisitorsPage

    visitors = Visitors(gallery.store)
    (obama,) = gallery.faces(str(IMAGES / "obama.jpg"))
    (obama2,) = gallery.faces(str(IMAGES / "obama2.jpg"))
    (biden,) = gallery.faces(str(IMAGES / "biden.jpg"))
    face_jpeg = encode_jpeg(crop(load_image(IMAGES / "obama.jpg"), obama.box))
    first, _ = visitors.assign([obama.descriptor], snapshot=face_jpeg, quality=1)
    assert visitors.assign([obama2.descriptor]) == (first, False)
    other, _ = visitors.assign([biden.descriptor])
    page = VisitorsPage(gallery, visitors)
    qtbot.addWidget(page)
    rows = {page.table.item(r, 0).text(): page.table.item(r, 3).text() for r in range(page.table.rowCount())}
    assert rows == {f"#{first}": "2", f"#{other}": "1"}
    row = next(r for r in range(page.table.rowCount()) if page.table.item(r, 0).text() == f"#{first}")
    page.table.selectRow(row)
    assert not page.snapshot.pixmap().isNull()
    assert not page.enroll_selected() and "name" in page.status.text()  # no name typed yet
    page.name.setText("Barack")
    with qtbot.waitSignal(page.gallery_changed, timeout=5000):
        qtbot.mouseClick(page.enroll_button, Qt.MouseButton.LeftButton)
    assert gallery.store.person("Barack").sample_count == 2 and "from 2 faces" in page.status.text()
    assert page.table.item(row, 5).text() == "Barack"


def test_visitors_page_gives_a_visitor_pass_that_the_door_honours_until_it_ends(qtbot, gallery):
    from datetime import datetime, timedelta

    from PySide6.QtCore import QDateTime

    from core.door.passes import Passes
    from core.door.visitors import Visitors
    from gui.visitors_page import VisitorsPage

    visitors = Visitors(gallery.store)
    (obama,) = gallery.faces(str(IMAGES / "obama.jpg"))
    visitor, _ = visitors.assign([obama.descriptor])
    page = VisitorsPage(gallery, visitors)
    qtbot.addWidget(page)
    page.table.selectRow(0)
    page.name.setText("Courier")
    page.pass_until.setChecked(True)
    page.until.setDateTime(QDateTime.currentDateTime().addSecs(-60))  # already over: refused, nobody enrolled
    assert not page.enroll_selected() and "past" in page.status.text() and gallery.people() == []
    until = datetime.now().replace(second=0, microsecond=0) + timedelta(hours=4)
    page.until.setDateTime(QDateTime(until))
    with qtbot.waitSignal(page.gallery_changed, timeout=5000):
        qtbot.mouseClick(page.enroll_button, Qt.MouseButton.LeftButton)
    courier = gallery.store.person("Courier")
    held = Passes(gallery.store).of(courier.id)
    assert courier.allowed and held is not None and "visitor pass until" in page.status.text()
    assert held.refusal(until.astimezone() - timedelta(minutes=1)) is None
    assert "expired" in (held.refusal(until.astimezone() + timedelta(minutes=1)) or "")


def test_recent_faces_page_acts_on_a_multi_selection_and_shows_refusals(qtbot, knn_gallery):
    from core.door.review import RecentFaces, ReviewSettings
    from gui.recent_page import RecentPage

    recent = RecentFaces(knn_gallery, ReviewSettings())
    ids = {}
    for name in ("obama3.jpg", "biden.jpg"):
        rgb = load_image(IMAGES / name)
        (face,) = knn_gallery.faces(rgb)
        event = AccessEvent(Verdict.UNKNOWN, snapshot=encode_jpeg(crop(rgb, face.box)))
        AccessLog(knn_gallery.store).record(event)
        ids[name] = recent.record(event, face.descriptor, face.quality, knn_gallery.candidates(face.descriptor))
    page = RecentPage(knn_gallery, recent)
    qtbot.addWidget(page)
    assert [page.table.item(r, 0).text() for r in range(2)] == [f"#{ids['biden.jpg']}", f"#{ids['obama3.jpg']}"]
    assert page.table.item(1, 3).text().startswith("obama 0.3") and not page.table.item(0, 0).icon().isNull()
    page.table.selectAll()
    page.name.setCurrentText("obama")
    with qtbot.waitSignal(page.gallery_changed, timeout=5000):
        results = page.act("add")
    assert dict(results)[ids["obama3.jpg"]] is None and "nearer biden" in dict(results)[ids["biden.jpg"]]
    assert "1 of 2 done" in page.status.text() and "nearer biden" in page.status.text()
    assert knn_gallery.store.person("obama").sample_count == 3
    assert page.table.item(1, 5).text().startswith("sample") and page.table.item(0, 5).text() == "new"
    page.learning.setChecked(True)
    assert ReviewSettings.load(knn_gallery.store).learning
