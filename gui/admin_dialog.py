"""The admin lock in the window: a PIN dialog, the first-start dialog that sets the PIN, and the
one-line hook actions call before they change anything:

    if not require_admin(self, "delete people"):
        return

require_admin() asks only when the window has an admin session (install_admin(window), done by
gui.app at start) and it is not unlocked already; the live view and the door keep running while
the dialog is open, because only the asking action waits for it. Widgets used without a window
that installed the lock (their own tests) are not gated.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from core.gallery.admin import MIN_LENGTH, AdminError, AdminLock, AdminSession
from gui.shell import Shell

#: The PIN dialogs' width (px): room for the first-start explanation in four or five lines.
DIALOG_WIDTH = 420


class AdminDialog(QDialog):
    """Ask for the admin PIN (``setting=False``) or choose one (``setting=True``, typed twice).
    The dialog stays open on a wrong answer, saying why (and how long to wait)."""

    def __init__(self, session: AdminSession, what: str, setting: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.setting = setting
        self.setWindowTitle("Choose the admin PIN" if setting else "Admin PIN")
        self.secret = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.again = QLineEdit(echoMode=QLineEdit.EchoMode.Password)
        self.message = QLabel(wordWrap=True)
        self.message.setStyleSheet("color: #b00020;")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        # The explanation sits above the form in a box layout, which gives a wrapped label the
        # height its text needs at the dialog's width (a spanning QFormLayout row clipped its first
        # line); the width is fixed so the dialog need not guess one from the text.
        self.setMinimumWidth(DIALOG_WIDTH)
        self.intro = QLabel(
            f"Choose a PIN or password (at least {MIN_LENGTH} characters). It will be asked "
            "before enrolling, deleting, changing settings or the door, and exporting the "
            "log. Recognition and the door keep working without it."
            if setting
            else f"The admin PIN is needed to {what}.",
            wordWrap=True,
        )
        column = QVBoxLayout(self)
        column.addWidget(self.intro)
        form = QFormLayout()
        form.addRow("PIN", self.secret)
        if setting:
            form.addRow("Again", self.again)
        column.addLayout(form)
        column.addWidget(self.message)
        column.addWidget(self.buttons)
        self._countdown = QTimer(self, interval=500)
        self._countdown.timeout.connect(self._show_wait)
        self._show_wait()

    def _show_wait(self) -> None:
        """While wrong tries make us wait, say how long and refuse OK."""
        wait = 0.0 if self.setting else self.session.lock.wait_seconds()
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(wait <= 0)
        if wait > 0:
            self.message.setText(f"Too many wrong tries: wait {wait:.0f} s.")
            self._countdown.start()
        elif self._countdown.isActive():
            self._countdown.stop()
            self.message.setText("")

    def done(self, result: int) -> None:
        self._countdown.stop()  # never tick on a gallery that may be closed after the dialog
        super().done(result)

    def accept(self) -> None:
        try:
            if self.setting:
                if self.secret.text() != self.again.text():
                    raise AdminError("the two entries differ")
                self.session.choose_secret(self.secret.text())
            else:
                self.session.unlock(self.secret.text())
        except AdminError as exc:
            self.message.setText(str(exc)[0].upper() + str(exc)[1:] + ".")
            self.secret.clear()
            self.again.clear()
            self.secret.setFocus()
            self._show_wait()
            return
        super().accept()


def session_of(widget: QWidget) -> AdminSession | None:
    """The admin session of the widget's window: a MainWindow after install_admin(); widgets
    shown on their own (their tests) and dialogs of their own have none."""
    return getattr(widget.window(), "admin", None)


def require_admin(widget: QWidget, what: str) -> bool:
    """True when the action may go ahead: no lock installed, already unlocked, or the operator
    gives the PIN now (choosing one first if none is set yet)."""
    session = session_of(widget)
    if session is not None and session.unlocked():
        return True
    return admin_vouches(widget, what)


def admin_vouches(widget: QWidget, what: str) -> bool:
    """Ask for the PIN now even within an unlocked session: for an action an admin must vouch for
    there and then (forcing a face the rules call someone else's into a person's samples). True
    without a lock installed, as require_admin."""
    session = session_of(widget)
    if session is None:
        return True
    dialog = AdminDialog(session, what, setting=not session.lock.is_set(), parent=widget.window())
    return dialog.exec() == QDialog.DialogCode.Accepted


def install_admin(window: Shell) -> AdminSession:
    """Give the window an admin session over its gallery, an Admin menu (lock now, change the
    PIN), and on first start (no PIN yet) the dialog to choose one, without blocking the video."""
    session = AdminSession(AdminLock(window.gallery.store))
    window.admin = session
    menu = window.menuBar().addMenu("&Admin")
    lock = QAction("&Lock now", window, shortcut=QKeySequence("Ctrl+L"))
    lock.triggered.connect(session.relock)
    menu.addAction(lock)
    change = QAction("&Change the admin PIN…", window)
    change.triggered.connect(lambda: _change_pin(window, session))
    menu.addAction(change)
    if not session.lock.is_set():
        window.first_pin_dialog = AdminDialog(session, "", setting=True, parent=window)
        window.first_pin_dialog.setWindowModality(Qt.WindowModality.NonModal)
        window.first_pin_dialog.show()
    return session


def _change_pin(window: QWidget, session: AdminSession) -> None:
    if require_admin(window, "change the admin PIN"):
        AdminDialog(session, "", setting=True, parent=window).exec()
