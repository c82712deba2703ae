"""How a person opens the door, on the People page: the access mode (face; face+pin; face+card)
and, for face+pin, a new PIN and duress PIN, each typed twice without echo. Empty PIN fields
keep the current PINs. core.door.factors checks the choice and hashes the PINs here, on this
PC; core.site.people stores it (at every door from an admin PC; refused on a door PC), through
the People page's ``did`` (PeoplePanel._did): at a site on the job thread, the dialog open and
its Save disabled until the site has answered."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QWidget

from core.door.factors import AccessError, access_change
from core.errors import FaceGateError
from core.gallery.api import Gallery
from core.gallery.store import ACCESS_MODES, Person
from core.site import people as site_people

if TYPE_CHECKING:
    from collections.abc import Callable


def _hidden() -> QLineEdit:
    field = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
    field.setMaxLength(8)
    return field


class AccessDialog(QDialog):
    def __init__(self, gallery: Gallery, person: Person, did: Callable[..., bool], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.gallery, self.person, self.did = gallery, person, did
        self.setWindowTitle(f"How {person.name} opens the door")
        self.mode = QComboBox()
        self.mode.addItems(list(ACCESS_MODES))
        self.mode.setCurrentText(person.access)
        self.pin, self.pin_again, self.duress, self.duress_again = _hidden(), _hidden(), _hidden(), _hidden()
        self.no_duress = QCheckBox("Remove the duress PIN")
        has_pin, has_duress = (r is not None for r in gallery.store.pins(person.id))
        self.message = QLabel(wordWrap=True)
        form = QFormLayout(self)
        form.addRow("Access", self.mode)
        form.addRow(QLabel(f"PIN: {'set' if has_pin else 'none'}; duress PIN: {'set' if has_duress else 'none'}"))
        form.addRow("New PIN", self.pin)
        form.addRow("Again", self.pin_again)
        form.addRow("New duress PIN", self.duress)
        form.addRow("Again", self.duress_again)
        form.addRow(self.no_duress)
        form.addRow(self.message)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        form.addRow(buttons)

    def save(self) -> bool:
        """Check the choice here, then store it; on refusal say why (never the PIN) and change
        nothing. True: stored, or (at a site) on its way; the dialog closes once it is."""
        try:
            if self.pin.text() != self.pin_again.text() or self.duress.text() != self.duress_again.text():
                raise AccessError("the two entries differ")
            duress = "" if self.no_duress.isChecked() else (self.duress.text() or None)
            change = access_change(
                self.mode.currentText(), self.pin.text() or None, duress, *self.gallery.store.pins(self.person.id)
            )
        except FaceGateError as exc:
            self.message.setText(f"Not saved: {exc}")
            return False
        return self.did(
            lambda: site_people.set_access(self.gallery, self.person.name, change.access, change.pin, change.duress_pin),
            then=lambda _plan: self.accept(),
            say=self.message.setText,
            buttons=[self.save_button],
        )

    def reject(self) -> None:
        """Not while the site is being asked: the answer comes back to this dialog."""
        if self.save_button.isEnabled():
            super().reject()
