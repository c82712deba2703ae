"""Enroll the face the operator clicked: choose a new or existing name and whether the person may
enter; core then takes good samples of that tracked face across head poses (straight, a little left,
right, up, down; the panel ticks those taken and names those missing) and saves
them together. The panel only shows the progress core reports (FrameResult.enrollment): when the
face leaves, that core looks for it again, and, with enough samples, offers to save them now.
The window docks it beside the video, so it never covers the face being enrolled."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
)

from core.live.loop import EnrollmentProgress, LiveRecognizer
from core.vision.pose import POSES

if TYPE_CHECKING:
    from PySide6.QtGui import QKeyEvent
    from PySide6.QtWidgets import QWidget


class EnrollDialog(QDialog):
    """Non-modal (the video keeps running behind it, which is where the samples come from)."""

    def __init__(
        self,
        recognizer: LiveRecognizer,
        track_id: int,
        names: list[str],
        parent: QWidget | None = None,
        at: tuple[float, float] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Enroll this face")
        self.recognizer = recognizer
        self.track_id = track_id
        self.at = at  # where the face was clicked: its track may have been replaced since
        self.started = False
        self.saved_name: str | None = None
        self.name = QComboBox(editable=True)
        self.name.addItems(names)
        self.name.setCurrentText("")
        line = self.name.lineEdit()  # an editable combo box always has one
        if line is not None:
            line.setPlaceholderText("a new name, or pick someone enrolled")
        self.allowed = QCheckBox("Allowed to open the door")
        self.allowed.setChecked(True)
        self.progress = QProgressBar(maximum=recognizer.settings.enroll_samples, value=0)
        self.status = QLabel(
            "Look straight at the camera, then turn a little left, right, up and down; "
            "FaceGate takes samples of each pose over a few seconds.",
            wordWrap=True,
        )
        self.poses = QLabel(wordWrap=True)  # the head poses taken, and those still missing
        self.warning = QLabel(wordWrap=True)
        self.warning.setStyleSheet("color: #b36b00;")
        self.warning.hide()
        self.save = QPushButton("Save the samples taken")
        self.save.clicked.connect(self.save_now)
        self.save.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Start")
        self.buttons.accepted.connect(self.start)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("", self.allowed)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.poses)
        layout.addWidget(self.warning)
        layout.addWidget(self.save)
        layout.addWidget(self.buttons)

    def start(self) -> None:
        name = self.name.currentText().strip()
        if not name:
            self.status.setText("Type a name first.")
            return
        # the clicked track may have been replaced by a new one for the same face (still boxed there)
        there = self.recognizer.track_at(*self.at) if self.at else None
        for track_id in dict.fromkeys(t for t in (self.track_id, there) if t is not None):
            try:
                self.recognizer.start_enrollment(track_id, name, self.allowed.isChecked())
                self.track_id = track_id
                break
            except KeyError:
                continue
        else:
            self.status.setText("That face has left the picture; close this and click it again when it is back.")
            return
        self.started = True
        self.name.setEnabled(False)
        self.allowed.setEnabled(False)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(False)
        self.status.setText(f"Taking samples of {name}…")

    def show_progress(self, progress: EnrollmentProgress | None) -> None:
        """Called with every frame's FrameResult.enrollment while the dialog is open."""
        if not self.started or progress is None:
            return
        self.track_id = progress.track_id  # the same face on a new track, when it came back
        self.progress.setMaximum(max(progress.needed, progress.collected))
        self.progress.setValue(progress.collected)
        self.poses.setText(pose_checklist(progress))
        if progress.warning:
            self.warning.setText(progress.warning)
            self.warning.show()
        if progress.error:
            self.started = False
            self.status.setText(progress.error)
            self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Try again")
            self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(True)
            self.name.setEnabled(True)
            self.allowed.setEnabled(True)
        elif progress.done:
            self._saved(progress)
        else:
            self.save.setVisible(progress.can_save)
            self.save.setText(f"Save the {progress.collected} samples taken")
            if progress.lost:
                text = f"The face left the picture after {progress.collected} of {progress.needed} samples; looking for it again…"
            else:
                why = f" (skipping frames: {', '.join(progress.problems)})" if progress.problems else ""
                text = f"{progress.collected} of {progress.needed} samples of {progress.name}{why}"
            if progress.can_save:
                text += " Save them now, or wait: FaceGate goes on when the face is back."
            self.status.setText(text)

    def save_now(self) -> None:
        """Save the samples taken so far (the face left, or time ran out, with enough of them)."""
        try:
            progress = self.recognizer.save_enrollment()
        except ValueError as exc:
            self.status.setText(str(exc))
            return
        if progress is not None and progress.done:
            self._saved(progress)
        elif progress is not None and progress.error:
            self.status.setText(progress.error)

    def _saved(self, progress: EnrollmentProgress) -> None:
        self.started = False
        self.saved_name = progress.name
        self.accept()

    def reject(self) -> None:
        if self.started:
            self.recognizer.cancel_enrollment()
            self.started = False
        super().reject()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not self.started:
            self.start()
            return
        super().keyPressEvent(event)


def pose_checklist(progress: EnrollmentProgress) -> str:
    """'Poses:  straight ✓2   left ✓1   right –   up –   down –': each head pose and its samples."""
    return "Poses:  " + "   ".join(
        f"{pose} ✓{progress.poses[pose]}" if progress.poses.get(pose) else f"{pose} –" for pose in POSES
    )
