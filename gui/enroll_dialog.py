"""Enroll the face the operator clicked: choose a new or existing name and whether the person may
enter; core then takes good samples of that tracked face across head poses (straight, a little
left, right, up, down) over the next frames and saves them together (core.live.enrollment says
when). The dialog shows the progress core reports (FrameResult.enrollment): the poses taken and
those still missing, and offers "Save now" once the straight pose is in."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QProgressBar, QVBoxLayout

from core.live.loop import EnrollmentProgress, LiveRecognizer
from core.vision.pose import POSES


class EnrollDialog(QDialog):
    """Non-modal (the video keeps running behind it, which is where the samples come from)."""

    def __init__(self, recognizer: LiveRecognizer, track_id: int, names: list[str], parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Enroll this face")
        self.recognizer = recognizer
        self.track_id = track_id
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
        self.status = QLabel("Look straight at the camera, then turn a little left, right, up and down; "
                             "FaceGate takes samples of each pose over a few seconds.", wordWrap=True)
        self.poses = QLabel(wordWrap=True)
        self.warning = QLabel(wordWrap=True)
        self.warning.setStyleSheet("color: #b36b00;")
        self.warning.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Start")
        self.save_now = self.buttons.addButton("Save now", QDialogButtonBox.ButtonRole.ActionRole)
        self.save_now.setToolTip("save the samples taken so far (the straight pose is in); the missing poses stay missing")
        self.save_now.setEnabled(False)
        self.save_now.clicked.connect(self.recognizer.finish_enrollment)
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
        layout.addWidget(self.buttons)

    def start(self) -> None:
        name = self.name.currentText().strip()
        if not name:
            self.status.setText("Type a name first.")
            return
        try:
            self.recognizer.start_enrollment(self.track_id, name, self.allowed.isChecked())
        except KeyError:
            self.status.setText("That face has left the picture; close this and click it again when it is back.")
            return
        self.started = True
        self.name.setEnabled(False)
        self.allowed.setEnabled(False)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(False)
        self.status.setText(f"Taking samples of {name}…")

    def show_progress(self, progress: EnrollmentProgress | None) -> None:
        """Called with every frame's FrameResult.enrollment while the dialog is open."""
        if not self.started or progress is None or progress.track_id != self.track_id:
            return
        self.progress.setMaximum(max(progress.needed, progress.collected))
        self.progress.setValue(progress.collected)
        self.poses.setText(pose_checklist(progress))
        self.save_now.setEnabled(progress.can_save and not (progress.done or progress.error))
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
            self.started = False
            self.saved_name = progress.name
            self.accept()
        else:
            why = f" (skipping frames: {', '.join(progress.problems)})" if progress.problems else ""
            ask = f"; now turn {progress.missing[0]}" if progress.missing and progress.can_save else \
                "; look straight at the camera" if not progress.can_save else ""
            self.status.setText(f"{progress.collected} samples of {progress.name}{ask}{why}")

    def reject(self) -> None:
        if self.started:
            self.recognizer.cancel_enrollment()
            self.started = False
        super().reject()

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not self.started:
            self.start()
            return
        super().keyPressEvent(event)


def pose_checklist(progress: EnrollmentProgress) -> str:
    """'straight ✓2  left ✓1  right –  up –  down –': each pose and its samples; missing ones dashed."""
    return "Poses:  " + "   ".join(f"{pose} ✓{progress.poses[pose]}" if progress.poses.get(pose) else f"{pose} –"
                                    for pose in POSES)
