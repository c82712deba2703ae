"""The Site page, when this gallery belongs to a site (core.site): whether the site is reachable,
how old this door's copy is (also always in the status bar), the outbox, "Sync now", and for an
admin PC the site's doors and groups. Without a site the window has no such page and nothing
here runs: the single-PC app is unchanged.

The sync itself runs on core.site.sync.SiteSync's own thread, started by the station
(core.station.Station, which also gives the door decision its offline gate); this page only reads
its status once a second and forwards the button. Admin lists are read on a job thread (the
network is never waited for on the GUI thread). What a sync changes in the gallery reaches every
page through the window's one gallery_changed signal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.site.config import SiteConfig, SiteSettings
from core.site.sync import SiteSync, SyncStatus, age_text
from core.site.verbs import VERBS, grammar, say_done
from core.station import Station
from gui.admin_dialog import require_admin
from gui.jobs import JobPanel
from gui.shell import Shell

if TYPE_CHECKING:
    from core.site.proposals import Proposal
    from gui.jobs import Progress, ShouldStop


class SitePage(QWidget):
    changed = Signal(object)  # a SyncReport that moved something (from the sync thread)

    def __init__(self, config: SiteConfig, syncer: SiteSync, settings: SiteSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.config = config
        self.syncer = syncer
        self.settings = settings
        self.state = QLabel()
        self.age = QLabel()
        self.outbox = QLabel()
        self.last = QLabel()
        self.last.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Site", QLabel(f"door {config.door!r}"))
        form.addRow("Connection", self.state)
        form.addRow("This door's copy", self.age)
        form.addRow("Waiting to send", self.outbox)
        form.addRow(
            "Offline policy",
            QLabel(
                f"after {settings.offline_after_hours:g} h without the site: "
                + ("keep recognising with the last copy" if settings.offline_policy == "keep" else "let nobody in")
            ),
        )
        form.addRow(
            "Anti-passback",  # core.site.passback; facegate settings set site.direction in|out, site.passback hard|soft|off
            QLabel(
                f"this door lets people {settings.direction}; {settings.passback} rule"
                if settings.direction and settings.passback != "off"
                else "not checked at this door"
            ),
        )
        form.addRow("Last sync", self.last)
        self.sync_button = QPushButton("Sync now")
        self.sync_button.clicked.connect(syncer.kick)
        self.refresh_button = QPushButton("Refresh doors, groups and proposals")
        self.refresh_button.clicked.connect(self.load_admin)
        bar = QHBoxLayout()
        bar.addWidget(self.sync_button)
        bar.addWidget(self.refresh_button)
        bar.addStretch(1)
        self.jobs = JobPanel()
        self.doors = _table(["door", "last seen", "state", "events"])
        self.groups = _table(["group", "people", "doors"])
        self.proposals = _table(["#", "door", "person", "what", "samples", "how, by", "farthest from them", "nearest other"])
        self.proposals.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.approve_button = QPushButton("Approve")
        self.reject_button = QPushButton("Reject")
        self.approve_button.clicked.connect(lambda: self.decide(True))
        self.reject_button.clicked.connect(lambda: self.decide(False))
        decide = QHBoxLayout()
        decide.addWidget(QLabel("Proposed by doors (they reach other doors once approved):"))
        decide.addStretch(1)
        decide.addWidget(self.approve_button)
        decide.addWidget(self.reject_button)
        self.decide_bar = QWidget()
        self.decide_bar.setLayout(decide)
        decide.setContentsMargins(0, 0, 0, 0)
        self.verb = QComboBox()
        for key, verb in VERBS.items():
            self.verb.addItem(grammar(key, verb).removeprefix("site "), key)
        self.words = [QLineEdit() for _ in range(2)]
        self.apply_button = QPushButton("Apply")
        self.apply_button.clicked.connect(self.apply_verb)
        self.verb.currentIndexChanged.connect(self._verb_chosen)
        verbs = QHBoxLayout()
        verbs.addWidget(self.verb)
        for edit in self.words:
            verbs.addWidget(edit, 1)
        verbs.addWidget(self.apply_button)
        self.verbs = QWidget()
        self.verbs.setLayout(verbs)
        verbs.setContentsMargins(0, 0, 0, 0)
        admin = config.admin_login is not None
        self.verbs.setVisible(admin)
        self.refresh_button.setVisible(admin)
        self.doors.setVisible(admin)
        self.groups.setVisible(admin)
        self.proposals.setVisible(admin)
        self.decide_bar.setVisible(admin)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(bar)
        layout.addWidget(self.verbs)
        layout.addWidget(self.jobs)
        layout.addWidget(self.decide_bar)
        for table in (self.proposals, self.doors, self.groups):
            layout.addWidget(table, 1)
        self._verb_chosen()
        self.show_status(syncer.status())

    def _verb_chosen(self) -> None:
        names = VERBS[self.verb.currentData()].words
        for i, edit in enumerate(self.words):
            edit.setVisible(i < len(names))
            edit.setPlaceholderText(names[i] if i < len(names) else "")

    def apply_verb(self) -> None:
        """The chosen admin verb (the same words as ``facegate site ...``), behind the admin PIN,
        on the job thread; then the doors and groups are read again."""
        if self.config.admin_login is None or self.jobs.busy:
            return
        key = self.verb.currentData()
        verb = VERBS[key]
        words = [edit.text().strip() for edit in self.words[: len(verb.words)]]
        if not all(words):
            self.last.setText(f"say it whole: {grammar(key, verb)}")
            return
        if not require_admin(self, "change the site's people, groups or doors"):
            return

        def work(progress: Progress, should_stop: ShouldStop) -> tuple[str, list[dict], list[dict], list[Proposal]]:
            from core.site.admin import SiteAdmin

            with SiteAdmin.from_config(self.config) as admin:
                said = say_done(verb, words, verb.call(admin, *words))
                return said, admin.doors(), admin.groups(), admin.proposals()

        self.jobs.start(f"{grammar(key, verb)}…", work, self._verb_done, self.last.setText)

    def _verb_done(self, found: tuple[str, list[dict], list[dict], list[Proposal]]) -> None:
        said, doors, groups, proposals = found
        self.last.setText(said)
        self._show_admin((doors, groups, proposals))

    def decide(self, approve: bool) -> None:
        """Approve or reject the selected proposal: the same verb as ``facegate site approve|reject ID``."""
        chosen = self.proposals.item(self.proposals.currentRow(), 0)
        if chosen is None:
            self.last.setText("choose a proposal first")
            return
        key = ("approve" if approve else "reject", "")
        self.verb.setCurrentIndex(next(i for i in range(self.verb.count()) if tuple(self.verb.itemData(i)) == key))
        self.words[0].setText(chosen.text())
        self.apply_verb()

    def show_status(self, status: SyncStatus) -> None:
        self.state.setText("online" if status.online else f"OFFLINE: {status.error or 'connecting…'}")
        self.age.setText(age_text(status.copy_age()) + " old" if status.heard else "never synced")
        self.outbox.setText(f"{status.outbox} item(s); cursor {status.cursor}")
        if status.last is not None:
            self.last.setText(status.last.text())

    def load_admin(self) -> None:
        if self.config.admin_login is None or self.jobs.busy:
            return

        def work(progress: Progress, should_stop: ShouldStop) -> tuple[list[dict], list[dict], list[Proposal]]:
            from core.site.admin import SiteAdmin

            with SiteAdmin.from_config(self.config) as admin:
                return admin.doors(), admin.groups(), admin.proposals()

        self.jobs.start("reading the site's doors, groups and proposals…", work, self._show_admin, self.last.setText)

    def _show_admin(self, found: tuple[list[dict], list[dict], list[Proposal]]) -> None:
        doors, groups, proposals = found
        _fill(
            self.proposals,
            [
                (
                    p.id,
                    p.door,
                    p.person,
                    "new person" if p.new_person else "more samples",
                    p.samples,
                    f"{', '.join(p.how)}; {', '.join(p.added_by)}",
                    "-" if p.farthest is None else f"{p.farthest:.2f}",
                    "-" if p.nearest_other is None else f"{p.nearest_other_name} {p.nearest_other:.2f}",
                )
                for p in proposals
            ],
        )
        _fill(
            self.doors,
            [(d["name"], d["last_seen"] or "never", "active" if d["active"] else "removed", d["events"]) for d in doors],
        )
        _fill(self.groups, [(g["name"], g["people"], ", ".join(g["doors"])) for g in groups])

    def shutdown(self) -> None:
        self.jobs.stop()


def _table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.verticalHeader().setVisible(False)
    return table


def _fill(table: QTableWidget, rows: list[tuple]) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.setItem(r, c, QTableWidgetItem(str(value)))
    table.resizeColumnsToContents()


class SitePages(QObject):
    """The Site page and the status-bar age over the station's sync (only when it has one)."""

    def __init__(self, window: Shell, station: Station) -> None:
        super().__init__(window)
        if station.site is None or station.site_config is None:
            raise ValueError("this gallery has no site")
        self.window = window
        self.syncer = station.site
        self.settings = station.settings.site
        self.page = SitePage(station.site_config, self.syncer, self.settings)
        station.on_site_change.append(self.page.changed.emit)  # sync thread -> GUI thread
        self.page.changed.connect(lambda _report: window.poll_gallery())
        self.age_label = QLabel()
        window.statusBar().addPermanentWidget(self.age_label)
        window.add_page("Site", self.page)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.tick)
        self.timer.start(1000)
        self.tick()

    def tick(self) -> None:
        status = self.syncer.status()
        self.page.show_status(status)
        self.age_label.setText(
            ("site online" if status.online else "site OFFLINE")
            + f" · copy {age_text(status.copy_age())}"
            + (" old" if status.heard else "")
        )

    def shutdown(self) -> None:
        """Stop the page (the station stops the sync)."""
        self.timer.stop()
        self.page.shutdown()
