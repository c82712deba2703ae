"""The people enrolled: a list with a thumbnail and sample count; rename, delete (confirmed), let
in or keep out, give a card number (what an access panel is sent) or a look-alike their own stricter
threshold, set how they open the door (gui.access_dialog), add samples from photos, view and remove single
samples. Every change goes through the Gallery and
then emits ``changed`` so the live overlay re-identifies at once (LiveRecognizer.refresh).
Photos are read on a job thread: finding a face in a 12 MP photo takes seconds, which the
window must not freeze for. At a site a change of a person may go to the site's server first
(core.site.people), so it runs on the job thread too (gui.jobs.ask_site): an unreachable site
holds up nothing but the change itself, never the live video or the door."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from core.door.policy import DecisionSettings
from core.errors import FaceGateError
from core.gallery.api import Gallery
from core.gallery.photo_views import VIEW_WIDTHS
from core.gallery.store import Person
from core.site import people as site_people
from core.site.config import site_of
from gui.access_dialog import AccessDialog
from gui.admin_dialog import require_admin
from gui.drops import accept_file_drops
from gui.jobs import JobPanel, ask_site
from gui.widgets import IMAGE_FILTER, THUMB, ask_yes, thumbnail_icon

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from core.gallery.api import EnrollResult
    from gui.jobs import Progress, R, ShouldStop


class PeoplePanel(QWidget):
    changed = Signal()

    def __init__(self, gallery: Gallery, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.gallery = gallery
        self.list = QListWidget()
        self.list.setIconSize(QSize(THUMB, THUMB))
        self.list.itemDoubleClicked.connect(lambda _: self.view_samples())
        self.list.currentItemChanged.connect(lambda *_: self._show_allowed())
        self.allowed = QCheckBox("Allowed in")
        self.allowed.setEnabled(False)
        self.allowed.setToolTip("Unticked: still recognised and logged, but the door stays shut")
        self.allowed.clicked.connect(self.set_allowed)
        buttons = QHBoxLayout()
        self.buttons: list[QWidget] = [self.allowed]
        for text, slot in (
            ("Rename…", self.rename),
            ("Card…", self.set_card),
            ("Own threshold…", self.ask_threshold),
            ("Delete…", self.delete),
            ("Add photos…", self.add_photos),
            ("Samples…", self.view_samples),
            ("Access…", self.edit_access),
        ):
            button = QPushButton(text)
            button.clicked.connect(slot)
            buttons.addWidget(button)
            self.buttons.append(button)
        buttons.addWidget(self.allowed)
        buttons.addStretch()
        self.jobs = JobPanel()
        self.summary = QLabel(wordWrap=True, textInteractionFlags=Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list)
        layout.addLayout(buttons)
        layout.addWidget(self.jobs)
        layout.addWidget(self.summary)
        accept_file_drops(self, self._dropped)
        self.reload()

    def reload(self) -> None:
        current = self.selected()
        self.list.clear()
        for person in self.gallery.people():
            note = ("" if person.allowed else ", not allowed") + (f", card {person.card}" if person.card else "")
            if person.threshold is not None:
                note += f", own threshold {person.threshold:g}"
            note += "" if person.access == "face" else f", {person.access}"
            item = QListWidgetItem(
                thumbnail_icon(self.gallery.store.first_thumbnail(person.id)),
                f"{person.name}\n{person.sample_count} samples{views_note(person)}{note}",
            )
            item.setData(Qt.ItemDataRole.UserRole, person)
            self.list.addItem(item)
            if current and person.id == current.id:
                self.list.setCurrentItem(item)
        self._show_allowed()

    def _show_allowed(self) -> None:
        person = self.selected()
        self.allowed.setEnabled(person is not None)
        self.allowed.setChecked(bool(person and person.allowed))

    def names(self) -> list[str]:
        return [p.name for p in self.gallery.people()]

    def selected(self) -> Person | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def select(self, name: str) -> None:
        for i in range(self.list.count()):
            if self.list.item(i).data(Qt.ItemDataRole.UserRole).name == name:
                self.list.setCurrentRow(i)
                return
        raise KeyError(name)

    def _did(
        self,
        change: Callable[[], R],
        then: Callable[[R], None] | None = None,
        refused: Callable[[], None] | None = None,
        say: Callable[[str], None] | None = None,
        buttons: Sequence[QWidget] = (),
    ) -> bool:
        """Run a change of the people; on refusal say why and change nothing else, then
        ``refused``. Alone, at once (a refusal in a message box). At a site the change may wait on
        the site's server: on the job thread (ask_site), ``say`` (the summary line) telling how it
        went and ``buttons`` disabled meanwhile; True then means started, ``then`` runs when done."""
        if not require_admin(self, "change the people enrolled"):
            return False
        if site_of(self.gallery.store) is not None:
            return ask_site(
                self.jobs,
                say or self.summary.setText,
                change,
                lambda result: self._changed(result, then),
                refused,
                [*self.buttons, *buttons],
            )
        try:
            result = change()
        except FaceGateError as exc:
            QMessageBox.warning(self, "FaceGate", str(exc))
            if refused is not None:
                refused()
            return False
        self._changed(result, then)
        return True

    def _changed(self, result: R, then: Callable[[R], None] | None) -> None:
        self.summary.setText("")  # "asking the site…" is over; ``then`` may say more
        self.reload()
        self.changed.emit()
        if then is not None:
            then(result)

    # -- actions --------------------------------------------------------------------------------
    def rename(self) -> None:
        person = self.selected()
        if person is None:
            return
        new, ok = QInputDialog.getText(self, "Rename", f"New name for {person.name}:", text=person.name)
        if ok and new.strip() and new.strip() != person.name:
            self._did(lambda: self.gallery.rename(person.name, new))

    def set_card(self) -> None:
        """The selected person's credential number (empty: none); at a site, the admin's (core.site.people)."""
        person = self.selected()
        if person is None:
            return
        text, ok = QInputDialog.getText(
            self, "Card number", f"Card number of {person.name} (decimal; empty: no card):", text=person.card or ""
        )
        if ok and (text.strip() or None) != person.card:
            self._did(lambda: site_people.set_cards(self.gallery, [(person.name, text.strip() or None)]))

    def door_threshold(self) -> float:
        """The door's decision threshold, which a personal one must be stricter than."""
        return DecisionSettings.load_or_default(self.gallery.store)[0].threshold

    def ask_threshold(self) -> None:
        """Ask for the selected person's own threshold: the box offers only values stricter than
        the door's; 0 follows the door's again."""
        person = self.selected()
        if person is None:
            return
        door = self.door_threshold()
        value, ok = QInputDialog.getDouble(
            self,
            "Own threshold",
            f"Name {person.name} only within this distance, stricter than the door's {door:g}\n"
            "(for a look-alike or a twin; 0 follows the door's threshold):",
            person.threshold or 0.0,
            0.0,
            round(door - 0.01, 2),
            2,
        )
        if ok:
            self.set_threshold(person.name, value or None)

    def set_threshold(self, name: str, value: float | None) -> bool:
        """Set ``name``'s own threshold (None: the door's): at the site on an admin PC, refused on a
        door PC for a site's person, refused when not stricter than the door's."""
        return self._did(lambda: site_people.set_threshold(self.gallery, name, value, self.door_threshold()))

    def set_allowed(self, allowed: bool) -> None:
        """Let the selected person in, or keep them out (the tick goes back if the PIN is refused)."""
        person = self.selected()
        if person is not None and not self._did(
            lambda: site_people.set_allowed(self.gallery, person.name, allowed), refused=self._show_allowed
        ):
            self._show_allowed()

    def edit_access(self) -> None:
        """How the selected person opens the door: face, face+pin (with PIN and duress PIN), face+card."""
        person = self.selected()
        if person is None or not require_admin(self, "change how people open the door"):
            return
        AccessDialog(self.gallery, person, self._did, self).exec()  # _did reloads and says changed

    def delete(self) -> None:
        """One verb: a site's person leaves every door (an admin PC, after saying so); a door PC
        refuses up front, saying what to do (core.site.people)."""
        person = self.selected()
        if person is None:
            return
        try:
            plan = site_people.plan_removal(self.gallery, person.name)
        except FaceGateError as exc:
            QMessageBox.warning(self, "FaceGate", str(exc))
            return
        question = f"Delete {person.name} and their {person.sample_count} samples?"
        if ask_yes(self, "Delete", f"{plan.warning}\n\n{question}" if plan.warning else question):
            self._did(lambda: site_people.remove_person(self.gallery, person.name))

    def add_photos(self) -> None:
        person = self.selected()
        if person is None:
            return
        files, _ = QFileDialog.getOpenFileNames(self, f"Photos of {person.name}", "", IMAGE_FILTER)
        if files:
            self.add_photo_files(person.name, files)

    def _dropped(self, paths: list[str]) -> None:
        person = self.selected()
        if person is None:
            self.summary.setText("Select the person these photos are of, then drop them again.")
        else:
            self.add_photo_files(person.name, paths)

    def add_photo_files(self, name: str, files: list[str]) -> None:
        """Enroll the photos' faces as samples of ``name`` on a job thread; the summary line then
        says how many were added and names each unusable photo with the reason."""
        if self.jobs.busy:
            self.summary.setText("Still busy (reading photos, or asking the site); try again when it is done.")
            return
        if not require_admin(self, "add samples"):
            return

        def work(progress: Progress, should_stop: ShouldStop) -> EnrollResult:
            return self.gallery.enroll(
                name,
                files,
                on_progress=lambda done, total: progress(done, total, f"photo {done} of {total} for {name}"),
                views=VIEW_WIDTHS,
            )

        def done(result: EnrollResult) -> None:
            self.reload()
            self.changed.emit()
            skipped = "".join(f"\nnot used: {reason}" for _, reason in result.skipped)  # reasons name the file
            views = len(result.sample_ids) - (len(files) - len(result.skipped))  # each photo used: itself and its views
            self.summary.setText(
                f"{len(result.sample_ids)} sample(s) added to {result.person.name}"
                + (f" ({views} of them the photos' faces as a door camera sees them)" if views else "")
                + f".{skipped}"
            )

        self.summary.setText("")
        self.jobs.start(
            f"Reading {len(files)} photos of {name}…", work, done, lambda why: self.summary.setText(f"Nothing added: {why}")
        )

    def shutdown(self) -> None:
        self.jobs.stop()

    def view_samples(self) -> None:
        person = self.selected()
        if person is not None:
            SamplesDialog(self, person).exec()


class SamplesDialog(QDialog):
    """One person's samples as thumbnails, with their source; remove single ones."""

    def __init__(self, panel: PeoplePanel, person: Person) -> None:
        super().__init__(panel)
        self.panel = panel
        self.person = person
        self.setWindowTitle(f"Samples of {person.name}")
        self.list = QListWidget()
        self.list.setViewMode(QListWidget.ViewMode.IconMode)
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.list.setIconSize(QSize(THUMB * 2, THUMB * 2))
        self.remove_button = QPushButton("Remove sample…")
        self.remove_button.clicked.connect(self.remove)
        self.status = QLabel(wordWrap=True)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list)
        layout.addWidget(self.remove_button)
        layout.addWidget(self.status)
        layout.addWidget(close)
        self.resize(520, 400)
        self.reload()

    def reload(self) -> None:
        """A photo's camera views stand behind it (one item, "+ N camera views"): they are that
        photo, not other looks, and go with it (Gallery.remove_sample)."""
        self.list.clear()
        self.views: dict[int, list[int]] = self.panel.gallery.photo_views(self.person.id)
        behind = {view for views in self.views.values() for view in views}
        for sample in self.panel.gallery.store.samples(self.person.id, with_thumbnails=True):
            if sample.id in behind:
                continue
            seen = len(self.views.get(sample.id, []))
            text = f"#{sample.id}\n{sample.source}" + (f"\n+ {seen} camera views" if seen else "")
            item = QListWidgetItem(thumbnail_icon(sample.thumbnail), text)
            item.setData(Qt.ItemDataRole.UserRole, sample.id)
            self.list.addItem(item)

    def remove(self) -> None:
        """Remove the chosen sample (at a site on the job thread, this dialog saying how it went:
        at a door the site's copy may wait for the next sync, which it says)."""
        item = self.list.currentItem()
        if item is None:
            return
        sample_id = item.data(Qt.ItemDataRole.UserRole)
        seen = len(self.views.get(sample_id, []))
        also = f" and its {seen} camera views" if seen else ""
        if ask_yes(self, "Remove sample", f"Remove sample #{sample_id}{also} of {self.person.name}?"):
            self.panel._did(
                lambda: site_people.remove_sample(self.panel.gallery, sample_id),
                then=self._removed,
                say=self.status.setText,
                buttons=[self.remove_button],
            )

    def _removed(self, gone: list[int]) -> None:
        self.reload()
        self.status.setText(f"Sample #{gone[0]} removed{site_people.withdrawal_note(self.panel.gallery)}")


def views_note(person: Person) -> str:
    """How many of a person's samples are their photos' camera views, for the list ("" if none)."""
    return f" ({person.view_count} photo views)" if person.view_count else ""
