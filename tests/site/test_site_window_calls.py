"""The window's calls to the site run off the GUI thread (gui.jobs.ask_site): with the site's
server answering nothing (a proxy that takes connections and stays silent, so the connect waits
for its timeout), the live video keeps showing frames while the People page removes a sample or
the Recent page undoes a learned one; then the page says how it went, and the SQLite gallery holds
what it should: on an admin PC nothing changed, on a door PC the sample left here and its
withdrawal waits in the outbox. With the site up again the same removal goes through."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QMessageBox

from core.door.review import LEARNED
from core.gallery.store import NewSample
from core.live.worker import InlineWorker
from core.site.admin import SiteAdmin
from core.site.sync import sync_once
from core.station import Station
from gui.jobs import ASKING, JobPanel
from gui.main_window import build_window
from gui.people_panel import SamplesDialog
from tests.support.data import CLIP
from tests.support.site import CuttableProxy, join_door, samples_of, start_site
from tests.support.window import on_modal

WAIT = 60_000
FRAMES_WHILE_ASKING = 5  # the connect alone waits 3 s (CONNECT_TIMEOUT)


class Frames:
    """The frames' clock: frames the window showed, and how many while ``jobs`` ran."""

    def __init__(self, window, jobs: JobPanel) -> None:
        self.count = self.while_busy = 0
        self.jobs = jobs
        window.frame_shown.connect(self._shown)

    def _shown(self, _shown) -> None:
        self.count += 1
        self.while_busy += self.jobs.busy


@pytest.fixture
def proxy(pg):
    proxy = CuttableProxy(pg.port)
    yield proxy
    proxy.close()


class Playing:
    """Real windows over galleries, each playing the clip in a loop, the frames counted while a
    page's ``jobs`` runs; closed at the end, windows before the galleries they show."""

    def __init__(self, qtbot, tmp_path, describer) -> None:
        self.qtbot, self.tmp_path, self.describer = qtbot, tmp_path, describer
        self.windows: list = []
        self.galleries: list = []

    def gallery(self, gallery):
        self.galleries.append(gallery)
        return gallery

    def window(self, gallery, jobs_of) -> tuple:
        settings = QSettings(str(self.tmp_path / "facegate.ini"), QSettings.Format.IniFormat)
        station = Station(gallery, descriptor_worker=InlineWorker(self.describer))
        window = build_window(station, settings, pace=False, loop=True)
        self.qtbot.addWidget(window)
        self.windows.append(window)
        frames = Frames(window, jobs_of(window))
        window.open_source(str(CLIP))
        self.qtbot.waitUntil(lambda: frames.count >= 3, timeout=WAIT)
        return window, frames

    def close(self) -> None:
        while self.windows:
            self.windows.pop().close()
        while self.galleries:
            self.galleries.pop().close()


@pytest.fixture
def playing(qtbot, tmp_path, describer):
    playing = Playing(qtbot, tmp_path, describer)
    yield playing
    playing.close()


def _sample_ids(gallery, name: str) -> list[int]:
    return [s.id for s in gallery.store.samples(name)]


def _site_samples(config) -> dict[str, int]:
    with SiteAdmin.from_config(config) as admin:
        return {p["name"]: p["samples"] for p in admin.people()}


def test_the_people_page_removes_a_sample_off_the_gui_thread_refused_while_the_site_hangs_then_done(
    qtbot, playing, proxy, tmp_path, site_url, superuser_password_file, describer, faces
):
    """An admin PC: the site first, then here. The site silent: the video goes on, the dialog says
    the site is unreachable and nothing changed, here or there. The site up: removed at both."""
    a, config = start_site(tmp_path / "a", proxy.url(site_url.rsplit("/", 1)[1]), superuser_password_file, describer)
    playing.gallery(a)
    a.enroll_samples("Barack", samples_of(faces["obama"]))
    sync_once(a, config)
    kept = _sample_ids(a, "Barack")
    assert _site_samples(config) == {"Barack": len(kept)}
    window, frames = playing.window(a, lambda w: w.people.jobs)
    window.people.select("Barack")
    dialog = SamplesDialog(window.people, a.store.person("Barack"))
    dialog.show()
    dialog.list.setCurrentRow(0)
    chosen = dialog.list.currentItem().data(Qt.ItemDataRole.UserRole)

    proxy.hang()
    on_modal(QMessageBox, lambda box: box.button(QMessageBox.StandardButton.Yes).click())
    dialog.remove()
    assert window.people.jobs.busy and dialog.status.text() == ASKING
    assert not dialog.remove_button.isEnabled() and not window.people.allowed.isEnabled()
    qtbot.waitUntil(lambda: dialog.status.text() != ASKING, timeout=WAIT)
    assert frames.while_busy >= FRAMES_WHILE_ASKING, "the live video stopped while the site was asked"
    said = dialog.status.text()
    assert said.startswith("the site is unreachable: nothing was changed; try again (cannot reach the site"), said
    assert _sample_ids(a, "Barack") == kept and dialog.list.count() == len(kept)  # nothing half-done here
    assert dialog.remove_button.isEnabled() and window.people.allowed.isEnabled()

    proxy.restore()  # the operator tries again with the site up
    assert _site_samples(config) == {"Barack": len(kept)}  # nor there
    on_modal(QMessageBox, lambda box: box.button(QMessageBox.StandardButton.Yes).click())
    dialog.remove()
    assert window.people.jobs.busy  # the site's answer comes on the job thread
    qtbot.waitUntil(lambda: dialog.status.text() != ASKING, timeout=WAIT)
    assert dialog.status.text() == f"Sample #{chosen} removed", dialog.status.text()
    assert _sample_ids(a, "Barack") == [i for i in kept if i != chosen] and dialog.list.count() == len(kept) - 1
    assert _site_samples(config) == {"Barack": len(kept) - 1}
    assert window.people.list.item(0).text().startswith(f"Barack\n{len(kept) - 1} samples")
    dialog.close()


def test_the_recent_page_undoes_a_learned_sample_off_the_gui_thread_and_queues_its_withdrawal_while_the_site_hangs(
    qtbot, playing, proxy, tmp_path, site_url, superuser_password_file, describer, faces
):
    """A door PC: the undo takes the sample away here at once and, the site silent, its
    withdrawal waits in the outbox (said on the page); the video goes on all the while."""
    url = proxy.url(site_url.rsplit("/", 1)[1])
    a, ca = start_site(tmp_path / "a", url, superuser_password_file, describer, "front")
    b, cb = join_door(tmp_path / "b", url, ca, describer, "back")
    playing.gallery(a)
    playing.gallery(b)
    a.enroll_samples("Barack", samples_of(faces["obama"][:1]))
    sync_once(a, ca)
    sync_once(b, cb)
    _, (learned,) = b.enroll_samples(
        "Barack", [NewSample(np.asarray(faces["biden"][0], np.float32), None, f"{LEARNED}: recent face #7")]
    )
    sync_once(b, cb)  # proposed at the site
    with SiteAdmin.from_config(ca) as admin:
        assert [p.samples for p in admin.proposals()] == [1]
    kept = [i for i in _sample_ids(b, "Barack") if i != learned]
    window, frames = playing.window(b, lambda w: w.door_pages.recent_page.jobs)
    page = window.door_pages.recent_page
    page.reload()
    assert page.learned.count() == 1
    page.learned.setCurrentRow(0)

    proxy.hang()
    page.undo_learned()
    assert page.jobs.busy and page.status.text() == ASKING and not page.buttons["undo"].isEnabled()
    qtbot.waitUntil(lambda: page.status.text() != ASKING, timeout=WAIT)
    assert frames.while_busy >= FRAMES_WHILE_ASKING, "the live video stopped while the site was asked"
    assert page.status.text() == "Learned sample removed; its withdrawal at the site waits for the next sync (1 waiting)"
    assert _sample_ids(b, "Barack") == kept and page.learned.count() == 0  # gone here, the others kept
    outbox = [kind for (kind,) in b.store.read("SELECT kind FROM site_outbox WHERE kind != 'event' ORDER BY id")]
    assert outbox == ["withdraw"]  # nothing lost: the site hears of it at the next sync (the door's visits wait too)
    assert page.buttons["undo"].isEnabled()

    # the window closed while the site is asked: the job ends before the window does, its answer is dropped
    proxy.restore()
    _, (again,) = b.enroll_samples(
        "Barack", [NewSample(np.asarray(faces["lin"][0], np.float32), None, f"{LEARNED}: recent face #8")]
    )
    sync_once(b, cb)
    page.reload()
    page.learned.setCurrentRow(0)
    proxy.hang()
    page.undo_learned()
    assert page.jobs.busy
    window.close()
    assert page.jobs.job is not None and page.jobs.job.isFinished()  # no QThread outlives the window
    assert _sample_ids(b, "Barack") == kept  # the undo was done (here; its withdrawal queued) before the close ended
    playing.close()  # the galleries too, at once
    qtbot.wait(200)  # the job's answer, had it been kept, would land on a closed gallery now
