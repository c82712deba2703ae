"""The settings dialog: threshold, detector, smallest face and the quality gates reach the
recognizer and are kept in QSettings for the next start; bad saved values fall back to the defaults."""
from __future__ import annotations

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from core.live.loop import LiveSettings
from core.vision.quality import QualitySettings
from gui.settings_dialog import SettingsDialog, live_settings


def test_settings_reach_the_recognizer_and_survive_a_restart(qtbot, live_window):
    window, _ = live_window
    assert window.recognizer.settings.threshold == 0.4

    def choose():
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, SettingsDialog):
            QTimer.singleShot(20, choose)
            return
        assert dialog.threshold.value() == 0.4
        assert dialog.method.currentText() == "yunet" and dialog.method.itemText(0) == "yunet"
        assert dialog.min_size.value() == QualitySettings().min_size
        dialog.threshold.setValue(0.45)
        dialog.method.setCurrentText("hog")
        dialog.min_face.setValue(60)
        dialog.min_size.setValue(80)
        dialog.max_yaw.setValue(30)
        dialog.accept()

    QTimer.singleShot(0, choose)
    window.open_settings()
    s = window.recognizer.settings
    assert (s.threshold, s.method, s.min_face) == (0.45, "hog", 60)
    assert (s.quality.min_size, s.quality.max_yaw) == (80, 30)
    assert window.recognizer.detector.settings.method == "hog"
    again = live_settings(QSettings(window.settings.fileName(), QSettings.Format.IniFormat))
    assert (again.threshold, again.method, again.min_face) == (0.45, "hog", 60)
    assert again.quality == s.quality


def test_bad_saved_values_fall_back_to_defaults(tmp_path):
    qs = QSettings(str(tmp_path / "bad.ini"), QSettings.Format.IniFormat)
    qs.setValue("recognition/threshold", "not a number")
    qs.setValue("recognition/method", "magic")
    qs.setValue("recognition/min_face", "80")
    qs.setValue("quality/min_sharpness", "sharp")
    qs.setValue("quality/max_pitch", "120")  # out of range: the saved gates are not used
    s = live_settings(qs)
    assert (s.threshold, s.method, s.min_face) == (LiveSettings().threshold, LiveSettings().method, 80)
    assert s.quality == QualitySettings()
