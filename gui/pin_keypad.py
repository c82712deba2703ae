"""The door's second factor on the screen: an on-screen keypad over the live picture while the
door asks a face+pin person for their PIN, and the USB HID card reader read as key input.

The keypad shows dots, never digits, and hands the PIN to the door (DoorDecider.enter_pin) when
OK is pressed, on a job thread: the PIN and duress PIN hashes take ~0.2 s (much more on a busy
PC), which the picture must not freeze for; the keys wait meanwhile. What the door answers (""
when taken, "Wrong PIN") is all it shows, so the duress PIN - taken like the PIN - looks exactly
the same. The same keypad serves the window and the
kiosk (which only makes it bigger, set_text_size).

A keyboard-wedge card reader types the card's digits then Enter into whatever has the focus;
CardKeys watches the key presses the window system delivers to the app's windows (once each,
whoever has the focus, never taking them) and feeds core.door.factors.KeyboardWedge, which tells
a reader's burst from a person's typing.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent, QWindow
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from core.door.factors import MAX_PIN, PROMPTS, KeyboardWedge
from gui.jobs import JobThread

BACK, OK = "⌫", "OK"


class PinKeypad(QFrame):
    """Digits, back and OK over ``parent`` (the live picture); ``enter(pin)`` is the door's answer."""

    def __init__(self, parent: QWidget, enter: Callable[[str], str]) -> None:
        super().__init__(parent)
        self._enter = enter
        self._check: JobThread | None = None  # the PIN being checked
        self.setObjectName("keypad")
        self.prompt = QLabel(PROMPTS["pin"], alignment=Qt.AlignmentFlag.AlignCenter)
        self.display = QLineEdit(readOnly=True, alignment=Qt.AlignmentFlag.AlignCenter, echoMode=QLineEdit.EchoMode.Password)
        self.display.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.message = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        grid = QGridLayout()
        self.buttons: dict[str, QPushButton] = {}
        for n, key in enumerate(["1", "2", "3", "4", "5", "6", "7", "8", "9", BACK, "0", OK]):
            button = QPushButton(key)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # a tap must not steal the card reader's keys
            button.clicked.connect(lambda _=False, k=key: self.press(k))
            grid.addWidget(button, n // 3, n % 3)
            self.buttons[key] = button
        layout = QVBoxLayout(self)
        layout.addWidget(self.prompt)
        layout.addWidget(self.display)
        layout.addLayout(grid)
        layout.addWidget(self.message)
        self.set_text_size(18)
        self.hide()

    def set_text_size(self, px: int) -> None:
        """Keys and prompt ``px`` pixels high (the kiosk: readable and tappable from the door)."""
        self.setStyleSheet(
            f"QFrame#keypad {{ background: rgba(0, 0, 0, 190); border-radius: 8px; }}"
            f"QLabel {{ color: white; font-size: {px}px; font-weight: bold; }}"
            f"QLineEdit {{ font-size: {px}px; }}"
            f"QPushButton {{ font-size: {px}px; min-width: {px * 2}px; min-height: {int(px * 1.6)}px; }}"
        )
        self.adjustSize()

    def ask(self, asking: bool) -> None:
        """Show the keypad while the door asks for a PIN (each frame says); forget the digits when it stops."""
        if not asking:
            if self.isVisible():
                self.hide()
                self.display.clear()
                self.message.clear()
            return
        parent = self.parentWidget()
        self.adjustSize()
        if parent is not None:  # at the right, beside the face rather than over it
            self.move(max(0, parent.width() - self.width() - 12), max(0, (parent.height() - self.height()) // 2))
        if not self.isVisible():
            self.show()
            self.raise_()

    def press(self, key: str) -> None:
        if key == BACK:
            self.display.backspace()
        elif key == OK:
            self.submit()
        elif len(self.display.text()) < MAX_PIN:
            self.display.setText(self.display.text() + key)
            self.message.clear()

    def submit(self) -> None:
        """Hand the digits to the door and show its answer (the same for the PIN and the duress PIN)."""
        pin = self.display.text()
        self.display.clear()
        if not pin or self.checking:
            return
        self.setEnabled(False)
        self.message.setText("Checking…")
        check = self._check = JobThread(lambda _progress, _stop: self._enter(pin), self)
        check.succeeded.connect(self._answered)
        check.failed.connect(self._answered)
        check.start()

    @property
    def checking(self) -> bool:
        return self._check is not None and self._check.isRunning()

    def _answered(self, answer: str) -> None:
        self.message.setText(answer)
        self.setEnabled(True)

    def shutdown(self) -> None:
        """Wait for a PIN being checked (a QThread must not outlive the window)."""
        if self._check is not None:
            self._check.wait()


class CardKeys(QObject):
    """An application event filter feeding each key the window system delivers to a window into
    a KeyboardWedge (a USB HID card reader); it never takes the key from its widget."""

    def __init__(self, wedge: KeyboardWedge, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.wedge = wedge

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress and isinstance(watched, QWindow) and isinstance(event, QKeyEvent):
            enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            self.wedge.key("\r" if enter else event.text())
        return False
