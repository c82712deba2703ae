"""The real window (offscreen) over a gallery that belongs to a site: the Site page, the copy's
age in the status bar, changes from another door arriving on their own, the admin's doors and
groups, the Search page's "whole site" switch; and no trace of any of it without a site."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QCoreApplication, QSettings

from core.live.worker import InlineWorker
from core.site.sync import sync_once
from core.station import Station
from gui.main_window import build_window
from tests.support.data import IMAGES
from tests.support.site import join_door, samples_of, start_site

WAIT = 60_000


@pytest.fixture
def window_of(qtbot, tmp_path, describer):
    made = []

    def make(gallery):
        settings = QSettings(str(tmp_path / "facegate.ini"), QSettings.Format.IniFormat)
        window = build_window(Station(gallery, descriptor_worker=InlineWorker(describer)), settings, pace=False, loop=False)
        qtbot.addWidget(window)
        made.append(window)
        return window

    yield make
    for window in made:
        window.close()
        assert window.site_pages is None or window.site_pages.syncer._thread is None


def _tabs(window) -> list[str]:
    return [window.tabs.tabText(i) for i in range(window.tabs.count())]


def test_a_single_pc_window_has_no_site_page(window_of, gallery):
    window = window_of(gallery)
    assert window.site_pages is None and "Site" not in _tabs(window)
    assert window.tool_pages.search.whole_site.isHidden()


def test_the_site_page_shows_the_copy_and_takes_changes_from_other_doors(
    qtbot, window_of, tmp_path, site_url, superuser_password_file, describer, faces
):
    a, config = start_site(tmp_path / "a", site_url, superuser_password_file, describer, "front")
    b, config_b = join_door(tmp_path / "b", site_url, config, describer, "back", enrolls_into="everyone")
    try:
        window = window_of(a)
        window.show()
        site = window.site_pages
        assert "Site" in _tabs(window)
        qtbot.waitUntil(lambda: site.syncer.status().online, timeout=WAIT)
        qtbot.waitUntil(lambda: site.age_label.text().startswith("site online · copy "), timeout=WAIT)
        b.enroll_samples("Joe", samples_of(faces["biden"]))
        sync_once(b, config_b)
        site.page.refresh_button.click()  # the admin PC lists what door B proposed
        qtbot.waitUntil(lambda: site.page.proposals.rowCount() == 1, timeout=WAIT)
        assert site.page.proposals.item(0, 2).text() == "Joe" and site.page.proposals.item(0, 3).text() == "new person"
        assert "Joe" not in window.people.names()
        site.page.proposals.selectRow(0)
        site.page.decide(True)  # Approve (the admin PIN is not set in this gallery)
        qtbot.waitUntil(lambda: "Joe" in window.people.names(), timeout=WAIT)  # LISTEN/NOTIFY, no button
        assert a.identify_descriptor(faces["biden"][0]).name == "Joe"
        site.page.sync_button.click()
        site.page.refresh_button.click()
        qtbot.waitUntil(
            lambda: site.page.groups.rowCount() == 2 and site.page.doors.rowCount() == 2 and site.page.proposals.rowCount() == 0,
            timeout=WAIT,
        )
        assert site.page.groups.item(1, 0).text() == "everyone" and site.page.groups.item(1, 1).text() == "1"
        search = window.tool_pages.search
        assert not search.whole_site.isHidden()
        search.whole_site.setChecked(True)
        with qtbot.waitSignal(search.searched, timeout=WAIT) as searched:
            search.search_file(IMAGES / "biden.jpg")
        (result,) = searched.args[0]
        assert result.hits[0].person == "Joe" and result.hits[0].enrolled_at == "back"
        assert "the whole site searched in" in search.summary.text()
    finally:
        b.close()


def test_the_admin_manages_groups_from_the_site_page(
    qtbot, window_of, tmp_path, site_url, superuser_password_file, describer, faces
):
    a, config = start_site(tmp_path / "a", site_url, superuser_password_file, describer, "front")
    a.enroll_samples("Joe", samples_of(faces["biden"]))
    sync_once(a, config)
    page = window_of(a).site_pages.page
    assert not page.verbs.isHidden()

    def apply(verb: str, *words: str) -> None:
        page.verb.setCurrentIndex(page.verb.findText(verb))
        for edit, word in zip(page.words, words, strict=False):
            edit.setText(word)
        page.apply_button.click()
        qtbot.waitUntil(lambda: not page.jobs.busy, timeout=WAIT)
        QCoreApplication.processEvents()  # the job's answer, posted before its thread ended, reaches the page

    apply("group add NAME", "IT")
    assert page.last.text() == "created group 'IT'" and page.groups.rowCount() == 2
    apply("member add GROUP PERSON", "IT", "Joe")
    assert page.last.text() == "'Joe' is now in group 'IT'"
    assert [page.groups.item(r, 1).text() for r in range(2)] == ["1", "1"]
    apply("member add GROUP PERSON", "IT", "Nobody")
    assert "the site has no person called 'Nobody'" in page.last.text()
    assert not page.words[1].isHidden() and page.words[1].placeholderText() == "PERSON"
    page.verb.setCurrentIndex(page.verb.findText("snapshots on"))  # no words to give
    assert page.words[0].isHidden() and page.words[1].isHidden()
