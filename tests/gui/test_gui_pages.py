"""The Search, Video scan and Evaluate pages as real widgets (offscreen), their job threads waited
for and stopped; and the pages inside the real window."""

from __future__ import annotations

import shutil

import pytest
from PIL import Image
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from core.tools.search import comparison_size
from tests.support.data import CLIP, IMAGES, KNN

WAIT = 180_000  # ms; the machine is shared, so generous


def drop_files(widget, paths) -> bool:
    """Drag files from the file manager onto ``widget`` and drop them; True when it took them."""
    from PySide6.QtCore import QMimeData, QPoint, QPointF, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) if not str(p).startswith("http") else QUrl(str(p)) for p in paths])
    copy, left = Qt.DropAction.CopyAction, Qt.MouseButton.LeftButton
    enter = QDragEnterEvent(QPoint(5, 5), copy, mime, left, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    if not enter.isAccepted():
        return False
    drop = QDropEvent(QPointF(5, 5), copy, mime, left, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, drop)
    return drop.isAccepted()


def _answer_next_box(button) -> None:
    """Press ``button`` on the next message box, once it is up (as the operator would)."""

    def respond():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, respond)
            return
        box.button(button).click()

    QTimer.singleShot(0, respond)


@pytest.fixture
def page_of(qtbot):
    """Make a page, and stop and wait for its job thread when the test ends."""
    pages = []

    def make(cls, gallery):
        page = cls(gallery)
        qtbot.addWidget(page)
        pages.append(page)
        return page

    yield make
    for page in pages:
        page.shutdown()
        assert page.jobs.job is None or page.jobs.job.isFinished()


def test_search_page_shows_obama_first_and_requeries(qtbot, page_of, knn_gallery, tmp_path):
    from gui.search_page import SearchPage

    page = page_of(SearchPage, knn_gallery)
    with qtbot.waitSignal(page.searched, timeout=WAIT) as shown:
        page.search_file(KNN / "test" / "obama1.jpg")
    result = shown.args[0]
    assert page.table.rowCount() == 5
    assert page.table.item(0, 2).text() == "obama"
    assert float(page.table.item(0, 3).text()) == pytest.approx(0.35, abs=0.02)
    assert page.picture.pixmap().size().toTuple() == comparison_size(1, 6)
    assert "1 face(s)" in page.summary.text()

    page.top.setValue(2)  # re-queried at once, without finding the faces again
    assert page.table.rowCount() == 2 and page.result is not result
    page.top.setValue(10)
    page.within.setValue(0.5)
    page.use_within.setChecked(True)
    assert [page.table.item(r, 2).text() for r in range(page.table.rowCount())] == ["obama", "obama"]

    saved = page.save(tmp_path / "cmp.png")
    with Image.open(saved) as img:
        assert img.size == comparison_size(1, 3)


def test_photos_and_videos_dropped_on_the_pages_are_searched_and_scanned(qtbot, page_of, knn_gallery):
    from gui.scan_page import ScanPage
    from gui.search_page import SearchPage

    page = page_of(SearchPage, knn_gallery)
    assert not drop_files(page, ["https://example.com/obama.jpg"])  # not a file: refused
    with qtbot.waitSignal(page.searched, timeout=WAIT):
        assert drop_files(page, [KNN / "test" / "obama1.jpg"])
    assert page.table.item(0, 2).text() == "obama"

    scan = page_of(ScanPage, knn_gallery)
    scan.every.setValue(25)
    with qtbot.waitSignal(scan.scanned, timeout=WAIT) as done:
        assert drop_files(scan, [CLIP])
    assert done.args[0].faces >= 1 and scan.videos.count() == 1


def test_search_page_reports_a_bad_photo(qtbot, page_of, knn_gallery, tmp_path):
    from gui.search_page import SearchPage

    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 truncated")
    page = page_of(SearchPage, knn_gallery)
    page.search_file(bad)
    qtbot.waitUntil(lambda: not page.jobs.busy, timeout=WAIT)
    qtbot.waitUntil(lambda: "broken.jpg" in page.summary.text(), timeout=5000)
    assert page.result is None and not page.save_button.isEnabled()


def test_scan_page_scans_searches_shows_and_enrolls(qtbot, page_of, gallery):
    from core.tools.scan import ScanChoices
    from gui.scan_page import ScanPage

    page = page_of(ScanPage, gallery)
    page.every.setValue(10)
    progress = []
    with qtbot.waitSignal(page.scanned, timeout=WAIT) as done:
        page.scan(CLIP)
        page.jobs.job.progress.connect(lambda *a: progress.append(a))
    result = done.args[0]
    assert not result.cancelled and result.frames_scanned == 28 and result.faces >= 10
    assert progress and progress[-1][0] == 275
    assert page.videos.count() == 1 and page.faces.count() == result.faces
    remembered = ScanChoices.load(gallery.store)
    assert (remembered.every, remembered.method) == (10, "yunet")

    first = page.faces.item(0)
    with qtbot.waitSignal(page.listed, timeout=5000):
        page.faces.itemClicked.emit(first)
    assert page.results.count() >= 1
    assert page.results.item(0).text().startswith("0.00")
    page.fold.setValue(0.0)  # no folding: one entry per found face
    assert page.results.count() == min(40, result.faces)

    page.results.setCurrentRow(0)
    assert page.frame.pixmap() is not None and not page.frame.pixmap().isNull()
    assert page.enroll_button.isEnabled()
    with qtbot.waitSignal(page.gallery_changed, timeout=5000):
        assert page.enroll(page.results.item(0).data(Qt.ItemDataRole.UserRole), "Found")
    assert [p.name for p in gallery.people()] == ["Found"]


def test_scan_page_cancel_keeps_a_partial_scan(qtbot, page_of, gallery):
    from gui.scan_page import ScanPage

    page = page_of(ScanPage, gallery)
    page.every.setValue(1)
    with qtbot.waitSignal(page.scanned, timeout=WAIT) as done:
        page.scan(CLIP)
        qtbot.waitUntil(lambda: page.jobs.bar.value() >= 90, timeout=WAIT)  # into his 90 px shot: faces kept
        page.jobs.cancel_button.click()
    result = done.args[0]
    assert result.cancelled and result.frames_read < 275
    assert "cancelled" in page.summary.text() and "(incomplete)" in page.videos.item(0).text()

    page.videos.setCurrentRow(0)  # removing asks first: No keeps it, Yes removes video and faces
    for button, left in ((QMessageBox.StandardButton.No, 1), (QMessageBox.StandardButton.Yes, 0)):
        _answer_next_box(button)
        page.remove_video()
        assert page.videos.count() == left and len(page.library.videos()) == left


def test_scan_page_refuses_a_bad_video(qtbot, page_of, gallery, tmp_path):
    from gui.scan_page import ScanPage

    fake = tmp_path / "clip.mp4"
    fake.write_text("not a video")
    page = page_of(ScanPage, gallery)
    page.scan(fake)
    qtbot.waitUntil(lambda: not page.jobs.busy and "clip.mp4" in page.summary.text(), timeout=WAIT)
    assert page.videos.count() == 0


@pytest.fixture
def people_folder(tmp_path):
    d = tmp_path / "people"
    for person, files in {"obama": ["obama-240p.jpg", "obama_small.jpg"], "alex": ["alex-lacamoire.png"]}.items():
        (d / person).mkdir(parents=True)
        for f in files:
            shutil.copy(IMAGES / f, d / person / f)
    (d / "obama" / "notes.txt").write_text("not a photo")
    return d


def test_eval_page_evaluates_a_folder_and_saves(qtbot, page_of, gallery, people_folder, tmp_path):
    from gui.eval_page import EvalPage

    page = page_of(EvalPage, gallery)
    page.rounds.setValue(2)
    with qtbot.waitSignal(page.evaluated, timeout=WAIT) as done:
        page.evaluate_folder(people_folder)
    report = done.args[0]
    assert report.not_splittable == ["alex"] and report.probes == 2
    assert page.table.rowCount() == len(report.thresholds) == 61
    assert "not splittable" in page.summary.text() and "alex" in page.summary.text()
    assert "notes.txt" in page.skipped.toPlainText()
    assert not page.plot.pixmap().isNull()
    assert page.save_table(tmp_path / "t.csv") and page.save_plot(tmp_path / "p.png")
    lines = (tmp_path / "t.csv").read_text().splitlines()
    assert lines[0].startswith("threshold,") and len(lines) == 62
    assert (tmp_path / "p.png").stat().st_size > 1000


def test_eval_page_cancel_and_gallery_evaluation(qtbot, page_of, knn_gallery):
    from gui.eval_page import EvalPage

    page = page_of(EvalPage, knn_gallery)
    page.evaluate_folder(KNN / "train")
    page.jobs.cancel()
    qtbot.waitUntil(lambda: not page.jobs.busy, timeout=WAIT)
    qtbot.waitUntil(lambda: "Cancelled" in page.summary.text(), timeout=5000)
    with qtbot.waitSignal(page.evaluated, timeout=WAIT) as done:
        page.evaluate_gallery()
    assert done.args[0].mode == "leave-one-out" and done.args[0].p_at[1] == 1.0


def test_eval_page_enrolls_a_folder_with_skips(qtbot, page_of, gallery, people_folder):
    from gui.eval_page import EvalPage

    page = page_of(EvalPage, gallery)
    changed = []
    page.gallery_changed.connect(lambda: changed.append(1))
    with qtbot.waitSignal(page.enrolled, timeout=WAIT) as done:
        page.enroll_folder(people_folder)
    result = done.args[0]
    assert sorted(result.enrolled) == ["alex", "obama"] and result.samples - result.views == 3 and changed
    assert "notes.txt" in page.skipped.toPlainText()
    photos = gallery.store.read(
        "SELECT p.name, count(*) FROM samples s JOIN people p ON p.id = s.person_id WHERE s.how = 'photo' GROUP BY p.name"
    )
    assert dict(photos) == {
        "alex": 1,
        "obama": 2,
    }  # each also as a door camera sees it (tests/core/gallery/test_photo_enrollment.py)
    assert result.views > 0 and f"({result.views} of them the faces as a door camera sees them)" in page.summary.text()


def test_pages_live_in_the_window_and_stop_with_it(qtbot, gallery, tmp_path):
    from PySide6.QtCore import QSettings

    from core.live.worker import InlineWorker
    from core.station import Station
    from gui.main_window import build_window

    station = Station(gallery, descriptor_worker=InlineWorker(gallery.describer))
    window = build_window(station, QSettings(str(tmp_path / "f.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    titles = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    assert {"Search", "Video scan", "Evaluate"} <= set(titles)
    # no page makes the window wider than it opens (the Door page's forms scroll): room for the
    # enroll panel beside the video without pushing a window past the screen's edge
    assert window.minimumSizeHint().width() <= window.width() == 960
    pages = window.tool_pages
    pages.scan.every.setValue(1)
    pages.scan.scan(CLIP)  # a long scan, still running when the window closes
    qtbot.waitUntil(lambda: pages.scan.jobs.bar.value() >= 1, timeout=WAIT)
    job = pages.scan.jobs.job
    window.close()
    assert job.isFinished()
